"""Keras 3 network builders of the neural estimators (one per module).

Importing this package does not import Keras; each builder module does.
"""
