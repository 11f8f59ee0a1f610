"""The number of components carried from the estimate to the unmixing form.

The number-of-components form records its suggestion per signal; unmixing
forms of that signal start from it, and open ones follow a new estimate
unless the user chose K there.
"""

from __future__ import annotations

import weakref

#: Numbers of components suggested by the number-of-components form, by
#: signal (weak references: a deleted signal is forgotten).
_SUGGESTED = weakref.WeakKeyDictionary()
_UNMIXING_FORMS = weakref.WeakSet()


def suggested_n_components(signal) -> int | None:
    """The K the number-of-components form suggested for ``signal``, if run."""
    try:
        return _SUGGESTED.get(signal)
    except TypeError:  # pragma: no cover - an unhashable signal
        return None


def _remember_suggestion(signal, n_components) -> None:
    try:
        _SUGGESTED[signal] = int(n_components)
    except TypeError:  # pragma: no cover
        return
    for form in list(_UNMIXING_FORMS):
        # open unmixing forms of this signal follow the new estimate unless
        # the user chose K there
        if form.signal is signal and not form.running and (
            form.n_components_source or form.n_components == 3
        ):
            form.n_components = int(n_components)
            form.n_components_source = "from the number-of-components estimate"
