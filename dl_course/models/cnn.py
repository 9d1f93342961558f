"""Convolutional classifiers for 1-D signals (MNIST-1D) and small images."""
from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from dl_course.models.conv import Conv
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
      h_BTC = nn.relu(Conv(self.channels, (kernel,), strides=(2,), padding=((1, 1),))(h_BTC))
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
      h = nn.relu(Conv(c, (5, 5), padding='SAME')(h))
      h = nn.max_pool(h, (2, 2), strides=(2, 2))
    h = nn.relu(nn.Dense(self.hidden)(h.reshape(h.shape[0], -1)))
    if self.dropout_rate > 0:
      h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    return nn.Dense(self.num_classes)(h)


class ResidualBlock(nn.Module):
  """conv 3x3 -> BN -> relu -> conv 3x3 -> BN, plus the input (He et al. 2016);
  where the stride or width changes, the shortcut is a 1x1 convolution + BN."""
  channels: int
  stride: int = 1

  @nn.compact
  def __call__(self, x, *, train: bool):
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9)
    h = Conv(self.channels, (3, 3), strides=self.stride, padding='SAME', use_bias=False)(x)
    h = nn.relu(norm()(h))
    h = Conv(self.channels, (3, 3), padding='SAME', use_bias=False)(h)
    h = norm()(h)
    if self.stride != 1 or x.shape[-1] != self.channels:
      x = Conv(self.channels, (1, 1), strides=self.stride, use_bias=False)(x)
      x = norm()(x)
    return nn.relu(h + x)


class ResNet(nn.Module):
  """A small ResNet for 28x28 or 32x32 images: a 3x3 stem, then stages of
  residual blocks, each stage after the first halving the resolution and
  widening; global average pooling and a linear head. stem_stride=2 halves the
  input first (4x less compute; 28x28 digits lose little). Batch statistics live in
  'batch_stats' (the engine's TrainState.model_state)."""
  num_classes: int
  stage_channels: Sequence[int] = (16, 32, 64)
  blocks_per_stage: int = 1
  stem_stride: int = 1

  @nn.compact
  def __call__(self, x_BHWC, *, train: bool = False):
    h = Conv(self.stage_channels[0], (3, 3), strides=self.stem_stride, padding='SAME',
                use_bias=False)(x_BHWC)
    h = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9)(h))
    for stage, channels in enumerate(self.stage_channels):
      for block in range(self.blocks_per_stage):
        h = ResidualBlock(channels, 2 if stage > 0 and block == 0 else 1)(h, train=train)
    return nn.Dense(self.num_classes)(h.mean(axis=(1, 2)))
