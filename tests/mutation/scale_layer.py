"""``Scale``: a parameter-free layer with a backward pass that can be planted wrong, for gradcheck's tests."""

from __future__ import annotations

from backproplab.core.layers import Layer


class Scale(Layer):
    """``a = c * x`` whose backward is wrong by a factor ``1 + error`` (NaN makes every gradient NaN)."""

    def __init__(self, c: float = 1.0, error: float = 0.0) -> None:
        super().__init__()
        self.c, self.error = c, error

    def forward(self, x, *, train=True):
        return self.c * x

    def backward(self, dout):
        return (self.c * (1.0 + self.error)) * dout
