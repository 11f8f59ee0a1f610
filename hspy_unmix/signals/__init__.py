"""The methods that ``import hspy_unmix`` adds to exspy's EELS signals.

* :mod:`~hspy_unmix.signals.activation` -- adds them (idempotent);
* :mod:`~hspy_unmix.signals.decomposition` -- ``decomposition`` with the
  package's algorithms and ``apply_unmixing``, thin over the estimators.

``restore_zlp`` lives with the restoration code and ``pan_sharpen`` with the
fusion code; the GUI forms (``*_gui``) in :mod:`hspy_unmix.gui`.
"""
