"""Keras layers of the ZLP restoration U-net, one per file."""
