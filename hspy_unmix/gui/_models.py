"""Toolkit-independent models of the hspy_unmix forms.

Each form (unmixing, zero-loss restoration, pan-sharpening, number of
components) is a traits ``HasTraits`` object holding the values the user
edits and a ``run`` method. The ipywidgets and traitsui front ends only link
their controls to these traits, so both toolkits behave the same way.

This module gathers them for the front ends; each lives in its own module:

- :mod:`._job`: :class:`BackgroundJob`, the worker thread of a run (progress,
  Stop as Ctrl-C);
- :mod:`._form`: :class:`Form`, the shared status, progress, Run/Stop and
  "Store as";
- :mod:`._parameters`: the typed parameter panel of an estimator
  (:class:`AlgorithmParameters`);
- :mod:`._unmixing_form`, :mod:`._restore_zlp_form`,
  :mod:`._pan_sharpen_form`, :mod:`._n_components_form`: one form each;
- :mod:`._k_suggestion`: K carried from the number-of-components estimate
  to the unmixing form.
"""

from ._form import Form, _accepts  # noqa: F401
from ._job import BackgroundJob
from ._k_suggestion import _remember_suggestion, suggested_n_components  # noqa: F401
from ._n_components_form import NComponentsForm
from ._pan_sharpen_form import (
    PanSharpenForm,
    candidate_label,
    describe_signal,
    ipython_candidates,
    namespace_candidates,
    signal_label,
)
from ._parameters import (
    SHARED_PARAMETERS,
    AlgorithmParameters,
    ParameterSpec,
    clean_float,
    parameter_docs,
    parameter_kind,
    parameter_specs,
)
from ._restore_zlp_form import RestoreZLPForm
from ._unmixing_form import (
    DEFAULT_ALGORITHM,
    HYPERSPY_ALGORITHMS,
    UnmixingForm,
    unmixing_algorithms,
)

__all__ = [
    "DEFAULT_ALGORITHM",
    "HYPERSPY_ALGORITHMS",
    "SHARED_PARAMETERS",
    "AlgorithmParameters",
    "BackgroundJob",
    "Form",
    "NComponentsForm",
    "PanSharpenForm",
    "ParameterSpec",
    "RestoreZLPForm",
    "UnmixingForm",
    "candidate_label",
    "clean_float",
    "describe_signal",
    "ipython_candidates",
    "namespace_candidates",
    "parameter_docs",
    "parameter_kind",
    "parameter_specs",
    "signal_label",
    "suggested_n_components",
    "unmixing_algorithms",
]
