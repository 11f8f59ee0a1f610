"""Near-zero-loss restoration (placeholder, being written)."""


def restore_zlp(self, *args, **kwargs):
    raise NotImplementedError("restore_zlp is not available yet.")
