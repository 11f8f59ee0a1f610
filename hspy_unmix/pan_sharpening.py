"""Pan-sharpening (placeholder, being written)."""


def pan_sharpen(self, other, *args, **kwargs):
    raise NotImplementedError("pan_sharpen is not available yet.")
