"""Convolutional classifiers for 1-D signals (MNIST-1D) and small images."""
from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from dl_course.models.mlp import add_channel_axis


class CNN1D(nn.Module):
  """The MNIST-1D paper's CNN: three strided convolutions, then a linear head.

  With the defaults, length 40 -> 19 -> 10 -> 5 positions of 25 channels
  (125 features) -> num_classes, as in Greydanus & Kobak's ConvBase.
  """
  num_classes: int
  channels: int = 25
  kernel_sizes: Sequence[int] = (5, 3, 3)

  @nn.compact
  def __call__(self, x_BT, *, train: bool = False):
    del train
    h_BTC = add_channel_axis(x_BT)
    for kernel in self.kernel_sizes:
      h_BTC = nn.relu(nn.Conv(self.channels, (kernel,), strides=(2,), padding=((1, 1),))(h_BTC))
    return nn.Dense(self.num_classes)(h_BTC.reshape(h_BTC.shape[0], -1))


class LeNet(nn.Module):
  """LeNet-style image CNN: [conv 5x5 -> relu -> max-pool 2] * 2 -> dense -> dense."""
  num_classes: int
  channels: Sequence[int] = (32, 64)
  hidden: int = 128
  dropout_rate: float = 0.0

  @nn.compact
  def __call__(self, x_BHWC, *, train: bool = False):
    h = x_BHWC
    for c in self.channels:
      h = nn.relu(nn.Conv(c, (5, 5), padding='SAME')(h))
      h = nn.max_pool(h, (2, 2), strides=(2, 2))
    h = nn.relu(nn.Dense(self.hidden)(h.reshape(h.shape[0], -1)))
    if self.dropout_rate > 0:
      h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    return nn.Dense(self.num_classes)(h)
