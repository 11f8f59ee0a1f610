"""Fusion of two acquisitions: pan-sharpening of a fine, noisy spectrum image
with a coarse, clean one (:mod:`~hspy_unmix.fusion.pan_sharpening`)."""
