"""Keras 3 model builders of hspy_unmix (one per module).

Importing this package does not import Keras; each builder module does.
"""
