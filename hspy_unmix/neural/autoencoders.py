"""The autoencoder estimators under their former module path.

Each estimator now has its own module (:mod:`hspy_unmix.neural.daeu`,
``mtaeu``, ``cnnaeu``, ``udas``, ``ae``); this module re-exports them.
Importing it does not import Keras.
"""

from .ae import AE
from .cnnaeu import CNNAEU
from .daeu import DAEU
from .mtaeu import MTAEU
from .udas import UDAS

__all__ = ["DAEU", "MTAEU", "CNNAEU", "UDAS", "AE"]
