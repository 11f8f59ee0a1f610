"""Synthetic EELS data with known ground truth.

* :func:`chequerboard_si`: the unmixing protocol of Brun et al.;
* near-zero-loss spectra for :meth:`restore_zlp` (``hspy_unmix.synthetic.zlp``);
* spectrum-image pairs for :meth:`pan_sharpen` (``hspy_unmix.synthetic.pan_sharpening``).
"""

from .chequerboard import *  # noqa: F401,F403
from .chequerboard import __all__ as _cb_all
from .pan_sharpening import *  # noqa: F401,F403
from .pan_sharpening import __all__ as _ps_all
from .zlp import *  # noqa: F401,F403
from .zlp import __all__ as _zlp_all

__all__ = [*_cb_all, *_zlp_all, *_ps_all]
