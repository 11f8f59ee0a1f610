"""Metrics: unmixing (SAD, NMSE), zero-loss restoration and pan-sharpening."""

from .pan_sharpening import *  # noqa: F401,F403
from .pan_sharpening import __all__ as _ps_all
from .unmixing import (
    match_components,
    nmse,
    sad,
    sad_matrix,
    spectral_angle,
    unmixing_scores,
)
from .zlp import *  # noqa: F401,F403
from .zlp import __all__ as _zlp_all

__all__ = [
    "match_components",
    "nmse",
    "sad",
    "sad_matrix",
    "spectral_angle",
    "unmixing_scores",
    *_zlp_all,
    *_ps_all,
]
