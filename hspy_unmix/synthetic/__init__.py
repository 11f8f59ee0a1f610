"""Synthetic EELS data with known ground truth.

* :func:`chequerboard_si`: the unmixing protocol of Brun et al.;
* near-zero-loss spectra for :meth:`restore_zlp`: the source paper's
  distribution (``synthetic.zlp``), the broad channel-unit training set
  (``synthetic.zlp_broad``) and the held-out evaluation set
  (``synthetic.zlp_heldout``, its own code and ranges);
* spectrum-image pairs for :meth:`pan_sharpen` (``hspy_unmix.synthetic.pan_sharpening``).
"""

from .chequerboard import *  # noqa: F401,F403
from .chequerboard import __all__ as _cb_all
from .pan_sharpening import *  # noqa: F401,F403
from .pan_sharpening import __all__ as _ps_all
from .zlp import *  # noqa: F401,F403
from .zlp import __all__ as _zlp_all
from .zlp_broad import zlp_broad_spectra
from .zlp_heldout import zlp_heldout_spectra

__all__ = [*_cb_all, *_zlp_all, "zlp_broad_spectra", "zlp_heldout_spectra", *_ps_all]
