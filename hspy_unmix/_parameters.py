"""The ``__init__`` of every estimator, generated from its parameters and their defaults.

scikit-learn reads an estimator's parameters from the signature of its
``__init__`` (``get_params``, ``set_params``, ``clone``), which must name them
one by one and only store them. Writing that method by hand repeats every name
three times per estimator; here a class states its parameters once::

    class HALS(_MultiStartNMF):
        __init__ = estimator_init(n_components=None, n_starts=5, max_iter=500, ...)

and :class:`estimator_init` compiles the ordinary method, as :mod:`dataclasses`
does: the first parameter may be given by position, the others by keyword only,
each is stored under its own name, the annotations come from
:data:`ANNOTATIONS`. ``inspect.signature``, ``help()``, Sphinx and the GUI see
explicit keyword arguments with their defaults.
"""

from __future__ import annotations

import keyword

#: Annotation of each parameter name, the same in every estimator that has it
#: (strings, as ``from __future__ import annotations`` writes them). A name
#: missing here (``random_state``, ``image_shape``, ...) has no annotation.
_NAMES_BY_ANNOTATION = {
    "int": "abundance_passes batch_size denoise_layers epochs filters kernel_size "
           "max_iter max_partial_fit_samples max_patches n_burn_in n_clusters n_init "
           "n_samples n_starts patch_size verbose warmup_epochs",
    "float": "a abundance_concentration denoise_corruption dropout learning_rate "
             "merge_threshold penalty prune_threshold reg_covar sparsity temperature "
             "tol validation_split w",
    "str": "abundance_scaling abundance_solver abundances combine_starts covariance_type init "
           "init_params map_ridge sample_side",
    "int | None": "n_components early_stopping_patience patch_stride",
    "float | None": "endmember_prior_variance noise_tolerance snr_input",
    "bool | None": "show_progressbar",
    "bool | str": "outlier_screen",
    "str | Sequence[float]": "ridge_schedule",
}
ANNOTATIONS = {
    name: annotation
    for annotation, names in _NAMES_BY_ANNOTATION.items()
    for name in names.split()
}

#: Default of the bounded sample that :meth:`partial_fit` keeps from a lazy
#: stream (see :mod:`hspy_unmix.unmixing._base`), the same for every estimator.
MAX_PARTIAL_FIT_SAMPLES = 20_000


class estimator_init:  # noqa: N801  (used like a function, in a class body)
    """``__init__`` of an estimator whose parameters are ``parameters``, in order.

    ``estimator_init(n_components=None, max_iter=500)`` placed in a class body
    as ``__init__`` is the method::

        def __init__(self, n_components: int | None = None, *, max_iter: int = 500):
            self.n_components = n_components
            self.max_iter = max_iter

    The object compiles that function and, when the class is created, puts
    it in its place (named ``<Class>.__init__``, in the class's module).
    """

    def __init__(self, **parameters):
        if not parameters:
            raise TypeError("estimator_init needs at least one parameter.")
        for name in parameters:
            if not name.isidentifier() or keyword.iskeyword(name) or name == "self":
                raise ValueError(f"{name!r} cannot be a parameter name.")
        self.function = _compile_init(parameters)

    def __set_name__(self, owner, name):
        function = self.function
        function.__qualname__ = f"{owner.__qualname__}.{name}"
        function.__module__ = owner.__module__
        setattr(owner, name, function)


def _compile_init(parameters: dict):
    names = list(parameters)
    arguments = [f"{names[0]}=_defaults[{names[0]!r}]"]
    if len(names) > 1:
        arguments.append("*")
        arguments += [f"{name}=_defaults[{name!r}]" for name in names[1:]]
    body = "".join(f"\n    self.{name} = {name}" for name in names)
    source = f"def __init__(self, {', '.join(arguments)}):{body}\n"
    namespace: dict = {}
    # defaults are bound from the mapping, never written into the source
    exec(source, {"_defaults": dict(parameters)}, namespace)  # noqa: S102
    function = namespace["__init__"]
    function.__annotations__ = {
        name: ANNOTATIONS[name] for name in names if name in ANNOTATIONS
    }
    return function
