"""Weight regularisers of the unmixing networks."""

from __future__ import annotations

from .._keras import keras, ops


@keras.saving.register_keras_serializable(package="hspy_unmix")
class GroupSparsity(keras.regularizers.Regularizer):
    """l2,1 penalty: ``strength * sum_k ||W[..., k]||_2``, one group per unit.

    Applied to a Dense kernel of shape ``(n_inputs, n_units)``, each group is
    the weight vector of one output unit (one endmember of an unmixing
    encoder). The penalty drives whole groups to zero, switching off units
    that the data do not need, and leaves the others only mildly shrunk.

    Parameters
    ----------
    strength
        Weight of the penalty (>= 0).
    epsilon
        Added under the square root so that the gradient stays finite when a
        group reaches zero.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.regularizers import GroupSparsity
    >>> W = np.array([[3.0, 0.0], [4.0, 0.0]], dtype="float32")
    >>> round(float(GroupSparsity(0.5, epsilon=0.0)(W)), 3)
    2.5
    """

    def __init__(self, strength: float = 1e-3, epsilon: float = 1e-12):
        if strength < 0:
            raise ValueError(f"strength must be >= 0, got {strength}.")
        self.strength = float(strength)
        self.epsilon = float(epsilon)

    def __call__(self, weights):
        norms = ops.sqrt(ops.sum(ops.square(weights), axis=0) + self.epsilon)
        return self.strength * ops.sum(norms)

    def get_config(self):
        return {"strength": self.strength, "epsilon": self.epsilon}
