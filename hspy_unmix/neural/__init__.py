"""Keras 3 models and layers of hspy_unmix.

Importing this package does not import Keras; the submodules that define
layers and models do, and they are imported only when a neural method runs.
"""
