"""Give exspy's EELS signal classes the methods of this package.

HyperSpy 2.5 resolves a signal class from ``signal_type``; registering a
second class for "EELS" is ambiguous, so the methods are added to exspy's
``EELSSpectrum`` (the lazy class inherits them). Activation is idempotent and
emits no warning.
"""

from __future__ import annotations

import functools
import textwrap

from .._compat import eels_classes
from .._registry import names_sentence

_FLAG = "_hspy_unmix_methods"


def _make_decomposition(cls):
    parent = super(cls, cls).decomposition  # MVA.decomposition, unbound

    @functools.wraps(parent)
    def decomposition(self, *args, **kwargs):
        from .decomposition import run_decomposition

        # Bound to the next class in this instance's MRO: LazySignal for lazy
        # EELS signals, MVA for eager ones.
        return run_decomposition(self, super(cls, self).decomposition, args, kwargs)

    note = _DECOMPOSITION_NOTE.replace("{names}", textwrap.fill(
        names_sentence(), width=70, subsequent_indent=" " * 8))
    decomposition.__doc__ = (parent.__doc__ or "") + note
    decomposition._hspy_unmix = True
    return decomposition


_DECOMPOSITION_NOTE = """
        Notes
        -----
        With ``import hspy_unmix``, EELS signals also accept the names
        {names} (case-insensitive), or an
        hspy_unmix estimator object. Extra keyword arguments go to the
        estimator; ``factors`` are the endmember spectra and ``loadings`` the
        abundances; ``decomposition_algorithm`` holds the name and the fitted
        estimator is ``self.unmixing_estimator`` (also returned with
        ``return_info=True``). On a lazy signal, ``sample_chunks`` (a
        fraction in (0, 1]) draws the fitting sample from that share of the
        navigation chunks only, so that the first pass reads only them
        (see the lazy guide; ignored for in-memory signals). Spectra that
        hold NaN or inf values are left out of the fit, get NaN loadings
        and are marked in ``learning_results.navigation_mask``, with a
        warning giving their number.

        Examples
        --------
        >>> import hspy_unmix
        >>> from hspy_unmix.synthetic import chequerboard_si
        >>> s, truth = chequerboard_si(n_components=3, random_state=0)
        >>> s.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
        >>> s.learning_results.factors.shape, s.learning_results.decomposition_algorithm
        ((200, 3), 'VCA')
"""


def activate() -> None:
    """Add the hspy_unmix methods to exspy's EELS classes (idempotent).

    ``import hspy_unmix`` calls it; calling it again changes nothing.

    Examples
    --------
    >>> import exspy, hspy_unmix
    >>> hspy_unmix.activate()
    >>> hasattr(exspy.signals.EELSSpectrum, "pan_sharpen")
    True
    """
    EELSSpectrum, _ = eels_classes()
    if EELSSpectrum.__dict__.get(_FLAG):
        return
    from ..fusion import pan_sharpening
    from . import decomposition
    from .restore_zlp import restore_zlp

    EELSSpectrum.decomposition = _make_decomposition(EELSSpectrum)
    EELSSpectrum.apply_unmixing = decomposition.apply_unmixing
    EELSSpectrum.restore_zlp = restore_zlp
    EELSSpectrum.pan_sharpen = pan_sharpening.pan_sharpen
    from ..gui import methods as gui_methods

    for name, func in gui_methods.SIGNAL_METHODS.items():
        setattr(EELSSpectrum, name, func)
    setattr(EELSSpectrum, _FLAG, True)
