"""Fully connected classifiers: logistic regression and the MLP."""
from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn


class LogisticRegression(nn.Module):
  """Multinomial logistic regression on the flattened input."""
  num_classes: int

  @nn.compact
  def __call__(self, x, *, train: bool = False):
    del train
    return nn.Dense(self.num_classes)(x.reshape(x.shape[0], -1))


class MLP(nn.Module):
  """Flatten -> [Dense -> activation -> dropout] * len(hidden_sizes) -> Dense."""
  num_classes: int
  hidden_sizes: Sequence[int] = (100, 100)
  activation: str = 'relu'
  dropout_rate: float = 0.0

  @nn.compact
  def __call__(self, x, *, train: bool = False):
    act = getattr(nn, self.activation)
    h = x.reshape(x.shape[0], -1)
    for width in self.hidden_sizes:
      h = act(nn.Dense(width)(h))
      if self.dropout_rate > 0:
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    return nn.Dense(self.num_classes)(h)


def add_channel_axis(x_BT):
  """[B, T] or [B, T, C] -> [B, T, C]: 1-D signals as sequences of channels."""
  return x_BT[..., None] if x_BT.ndim == 2 else x_BT


ACTIVATIONS = ('relu', 'tanh', 'sigmoid', 'gelu', 'elu', 'silu')
