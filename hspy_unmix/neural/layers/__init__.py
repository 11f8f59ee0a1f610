"""Custom Keras layers (one per module), registered under package "hspy_unmix"."""
