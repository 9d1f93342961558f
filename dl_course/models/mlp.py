"""Fully connected networks: logistic regression, the MLP (classifier or any
vector-valued map, e.g. a GAN's generator and discriminator) and a classifier
that exposes its features."""
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
  """Flatten -> [Dense -> (batch norm) -> activation -> dropout] * len(hidden_sizes) -> Dense.

  With batch_norm the statistics live in the 'batch_stats' collection: batch
  statistics (and a running-average update) when train=True, the running
  averages when train=False. The Dense layers then drop their bias, which the
  normalisation's shift replaces."""
  num_classes: int
  hidden_sizes: Sequence[int] = (100, 100)
  activation: str = 'relu'
  dropout_rate: float = 0.0
  batch_norm: bool = False
  batch_norm_momentum: float = 0.9
  leaky_slope: float = 0.01  # the negative slope, with activation='leaky_relu'
  # Hidden layers after the first add their input back, h <- h + act(Dense(h)), where
  # the widths agree (the MNIST-1D paper's MLP: its second layer is residual).
  residual: bool = False

  @nn.compact
  def __call__(self, x, *, train: bool = False):
    if self.activation == 'leaky_relu':
      act = lambda h: nn.leaky_relu(h, self.leaky_slope)
    else:
      act = getattr(nn, self.activation)
    h = x.reshape(x.shape[0], -1)
    for layer, width in enumerate(self.hidden_sizes):
      branch = nn.Dense(width, use_bias=not self.batch_norm)(h)
      if self.batch_norm:
        branch = nn.BatchNorm(use_running_average=not train,
                              momentum=self.batch_norm_momentum)(branch)
      branch = act(branch)
      if self.dropout_rate > 0:
        branch = nn.Dropout(self.dropout_rate, deterministic=not train)(branch)
      h = h + branch if self.residual and layer > 0 and h.shape[-1] == width else branch
    return nn.Dense(self.num_classes)(h)


def add_channel_axis(x_BT):
  """[B, T] or [B, T, C] -> [B, T, C]: 1-D signals as sequences of channels."""
  return x_BT[..., None] if x_BT.ndim == 2 else x_BT


ACTIVATIONS = ('relu', 'tanh', 'sigmoid', 'gelu', 'elu', 'silu', 'leaky_relu')


class FeatureClassifier(nn.Module):
  """Two ReLU layers of `hidden` units, then logits; `features` is the last
  hidden layer (the space a Fréchet distance between image sets is taken in)."""
  num_classes: int = 10
  hidden: int = 128

  def setup(self):
    self.first, self.second = nn.Dense(self.hidden), nn.Dense(self.hidden)
    self.head = nn.Dense(self.num_classes)

  def features(self, x):
    h = nn.relu(self.first(x.reshape(x.shape[0], -1)))
    return nn.relu(self.second(h))

  def __call__(self, x, *, train: bool = False):
    del train
    return self.head(self.features(x))
