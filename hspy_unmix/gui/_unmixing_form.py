"""Model of the unmixing form: ``signal.decomposition(algorithm=...)``."""

from __future__ import annotations

from traits.api import Any, Bool, Dict, Enum, Float, Instance, Int, List, Str

from .._docstrings import fill_doc
from ._form import Form
from ._k_suggestion import _UNMIXING_FORMS, suggested_n_components
from ._parameters import AlgorithmParameters, clean_float

#: HyperSpy's own decomposition algorithms, offered beside the package's.
HYPERSPY_ALGORITHMS = (
    "SVD", "MLPCA", "sklearn_pca", "NMF", "sparse_pca", "mini_batch_sparse_pca",
    "RPCA", "ORPCA", "ORNMF",
)
#: The algorithm a new unmixing form starts with: non-negative, sum-to-one
#: abundances, fast, deterministic for a given seed.
DEFAULT_ALGORITHM = "VCA"


def unmixing_algorithms() -> list[str]:
    """The unmixing form's list: the package's registry, then HyperSpy's.

    Examples
    --------
    >>> from hspy_unmix.gui._models import unmixing_algorithms
    >>> names = unmixing_algorithms()
    >>> names[0], "SVD" in names, "NMF" in names
    ('VCA', True, True)
    """
    from .._registry import ALGORITHMS

    return [*ALGORITHMS, *HYPERSPY_ALGORITHMS]


@fill_doc
class UnmixingForm(Form):
    """Model of the unmixing form: ``signal.decomposition(algorithm=...)``.

    %(examples_chequerboard)s
    >>> from hspy_unmix.gui._models import UnmixingForm
    >>> form = UnmixingForm(signal=s, algorithm="VCA", n_components=3)
    >>> form.run(background=False).state
    'done'
    >>> s.learning_results.decomposition_algorithm
    'VCA'
    """

    algorithms = List(Str)
    algorithm = Enum(values="algorithms")
    n_components = Int(3)
    random_state = Int(0)
    parameters = Instance(AlgorithmParameters)
    #: Poisson normalisation of the counts (HyperSpy's
    #: ``normalize_poissonian_noise``), recommended for EELS counts.
    normalize_poissonian_noise = Bool(False)
    #: Energy range used (signal axis units); the channels outside it are
    #: masked (HyperSpy's ``signal_mask``).
    energy_start = Float()
    energy_end = Float()
    #: Names of boolean masks offered (from the caller's variables), "" none.
    mask_names = List(Str)
    navigation_mask = Enum(values="mask_names")
    signal_mask = Enum(values="mask_names")
    masks = Dict(Str, Any)
    #: Where the suggested K came from ("" when K is the default).
    n_components_source = Str()

    def __init__(self, **traits):
        algorithms = traits.pop("algorithms", None) or unmixing_algorithms()
        namespace = traits.pop("namespace", None)
        masks = traits.pop("masks", None)
        traits.setdefault(
            "algorithm", DEFAULT_ALGORITHM if DEFAULT_ALGORITHM in algorithms else algorithms[0]
        )
        explicit_k = "n_components" in traits
        super().__init__(algorithms=algorithms, namespace=namespace, **traits)
        if self.parameters is None:
            self.parameters = AlgorithmParameters(self.algorithm)
        if self.signal is not None:
            axis = self.signal.axes_manager.signal_axes[0]
            if "energy_start" not in traits:
                self.energy_start = clean_float(float(axis.axis[0]))
            if "energy_end" not in traits:
                self.energy_end = clean_float(float(axis.axis[-1]))
            suggested = suggested_n_components(self.signal)
            if suggested is not None and not explicit_k:
                self.n_components = suggested
                self.n_components_source = "from the number-of-components estimate"
            _UNMIXING_FORMS.add(self)
        self.set_masks(masks)

    def set_masks(self, masks=None) -> None:
        """Offer these boolean masks (dict name -> array or signal).

        None offers the boolean arrays and signals of :attr:`namespace`
        whose shape is the navigation or the signal shape of the signal.
        """
        if masks is None:
            masks = {}
            if self.signal is not None and isinstance(self.namespace, dict):
                shapes = {
                    tuple(self.signal.axes_manager.navigation_shape[::-1]),
                    tuple(self.signal.axes_manager.signal_shape[::-1]),
                }
                from hyperspy.signal import BaseSignal

                for name, value in self.namespace.items():
                    # (a numpy array's own .data is its buffer, not the values)
                    data = value.data if isinstance(value, BaseSignal) else value
                    if (not name.startswith("_") and getattr(data, "dtype", None) is not None
                            and data.dtype == bool and tuple(data.shape) in shapes):
                        masks[name] = value
        self.masks = dict(masks)
        self.mask_names = ["", *self.masks]

    def _algorithm_changed(self, new):
        if self.traits_inited():
            self.parameters = AlgorithmParameters(new)

    def _n_components_changed(self):
        self.n_components_source = ""  # the user's own choice from now on

    def _describe(self):
        return f"{self.algorithm} with {self.n_components} components"

    def _summarize(self):
        lr = self.signal.learning_results
        return (
            f"{lr.decomposition_algorithm}: factors {lr.factors.shape}, "
            f"loadings {lr.loadings.shape}"
        )

    def _energy_mask(self):
        axis = self.signal.axes_manager.signal_axes[0]
        energies = axis.axis
        start, end = sorted((self.energy_start, self.energy_end))
        tolerance = abs(axis.scale) * 1e-6 if hasattr(axis, "scale") else 0.0
        inside = (energies >= start - tolerance) & (energies <= end + tolerance)
        if inside.all():
            return None
        if inside.sum() < max(2, int(self.n_components)):
            raise ValueError(
                f"the energy range {start:g} to {end:g} keeps {int(inside.sum())} channels; "
                f"it needs at least K = {self.n_components}."
            )
        return ~inside

    def _make_work(self):
        import numpy as np

        from .._registry import normalise_name

        if self.n_components < 1:
            raise ValueError("the number of components must be at least 1.")
        kwargs = self.parameters.as_kwargs()
        signal = self.signal
        algorithm, n_components = self.algorithm, int(self.n_components)
        options = {"print_info": False}
        if self.normalize_poissonian_noise:
            options["normalize_poissonian_noise"] = True
        signal_mask = self._energy_mask()
        if self.signal_mask:
            from hyperspy.signal import BaseSignal

            chosen = self.masks[self.signal_mask]
            chosen = np.asarray(chosen.data if isinstance(chosen, BaseSignal) else chosen,
                                dtype=bool)
            signal_mask = chosen if signal_mask is None else (signal_mask | chosen)
        if signal_mask is not None:
            options["signal_mask"] = signal_mask
        if self.navigation_mask:
            options["navigation_mask"] = self.masks[self.navigation_mask]
        if normalise_name(algorithm) is not None:
            kwargs["random_state"] = int(self.random_state)
            # The decomposition wrapper hands this to estimators that report
            # progress and drops it for the others.
            kwargs["show_progressbar"] = True
        elif algorithm not in ("SVD", "MLPCA", "RPCA", "ORPCA", "ORNMF"):
            kwargs["random_state"] = int(self.random_state)  # scikit-learn's

        def work():
            signal.decomposition(
                algorithm=algorithm, output_dimension=n_components, **options, **kwargs
            )
            return signal.learning_results

        return work
