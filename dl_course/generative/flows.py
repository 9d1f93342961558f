"""Flows built from the bijectors: RealNVP and MAF for vectors, RealNVP- and
Glow-style multi-scale flows for images, and what every flow needs — the
log-density under a standard-normal base, sampling, dequantisation and bits/dim.

A flow is a Flax module `f` with `f(x) -> (z, log|det ∂z/∂x|)` and
`f(z, inverse=True) -> (x, log|det ∂x/∂z|)`; z is [batch, D] (images flattened).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from dl_course.generative import bijectors as bj


def standard_normal_log_prob(z):
  """log N(z; 0, I) per example."""
  z = z.reshape(z.shape[0], -1)
  return -0.5 * jnp.sum(z ** 2, -1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


def log_prob(flow: nn.Module, variables, x):
  z, log_det = flow.apply(variables, x)
  return standard_normal_log_prob(z) + log_det


def sample(flow: nn.Module, variables, key, num: int, latent_dim: int, temperature: float = 1.0):
  z = temperature * jax.random.normal(key, (num, latent_dim))
  return flow.apply(variables, z, inverse=True)[0]


def realnvp(dim: int, num_layers: int, hidden: Sequence[int]) -> bj.Chain:
  """Affine couplings on alternating halves, ActNorm between them (in place of
  RealNVP's batch norm, which would make the density depend on the batch)."""
  if dim < 2:
    raise ValueError(f'realnvp needs dim >= 2, got {dim}')
  layers = []
  for i in range(num_layers):
    layers += [bj.ActNorm(), bj.AffineCoupling('half', i, tuple(hidden))]
  return bj.Chain(layers)


def neural_spline(dim: int, num_layers: int, hidden: Sequence[int], num_bins: int = 8,
                  bound: float = 4.0) -> bj.Chain:
  """Rational-quadratic spline couplings on alternating halves, after one ActNorm
  that brings the data to the spline's interval."""
  if dim < 2:
    raise ValueError(f'neural_spline needs dim >= 2, got {dim}')
  return bj.Chain([bj.ActNorm()] + [bj.SplineCoupling(i, tuple(hidden), num_bins, bound)
                                    for i in range(num_layers)])


def maf(num_layers: int, hidden: Sequence[int]) -> bj.Chain:
  """MAF layers with the order reversed between them."""
  layers = []
  for i in range(num_layers):
    layers += [bj.MAFLayer(tuple(hidden))] + ([bj.Reverse()] if i < num_layers - 1 else [])
  return bj.Chain(layers)


class Logit(nn.Module):
  """[0, 1] -> R: y = logit(a + (1 - 2a) x) (RealNVP's preprocessing; `a` keeps
  pixels at 0 and 1 finite)."""
  alpha: float = 0.05

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    a = self.alpha
    if inverse:
      s = jax.nn.sigmoid(x)
      log_det = jnp.log(s) + jnp.log1p(-s) - math.log(1 - 2 * a)
      return (s - a) / (1 - 2 * a), bj.sum_per_example(log_det)
    s = a + (1 - 2 * a) * x
    log_det = math.log(1 - 2 * a) - jnp.log(s) - jnp.log1p(-s)
    return jnp.log(s) - jnp.log1p(-s), bj.sum_per_example(log_det)


class MultiScaleFlow(nn.Module):
  """[H, W, C] images in [0, 1] -> z in R^(HWC), in levels: squeeze, `steps` flow
  steps, then half the channels leave for the base distribution (Dinh et al.
  2017's multi-scale architecture). A step is
    glow:    ActNorm, invertible 1x1 convolution, affine coupling on channel halves;
    realnvp: ActNorm, affine coupling on a checkerboard mask (parity alternating).
  Each level halves the sides, so they must stay even (28 -> 14 -> 7: two levels)."""
  image_shape: tuple[int, int, int]
  levels: int
  steps: int
  hidden: int
  style: str = 'glow'

  def setup(self):
    self.logit = Logit()
    shapes, blocks = [], []
    height, width, channels = self.image_shape
    for level in range(self.levels):
      if height % 2 or width % 2:
        raise ValueError(f'image {self.image_shape}: side {height}x{width} not divisible by 2 '
                         f'at level {level}')
      height, width, channels = height // 2, width // 2, 4 * channels
      layers = [bj.Squeeze()]
      for step in range(self.steps):
        if self.style == 'glow':
          layers += [bj.ActNorm(), bj.Invertible1x1Conv(),
                     bj.AffineCoupling('channel', 0, self.hidden)]
        else:
          layers += [bj.ActNorm(), bj.AffineCoupling('checkerboard', step, self.hidden)]
      blocks.append(bj.Chain(layers))
      if level < self.levels - 1:
        shapes.append((height, width, channels // 2))
        channels -= channels // 2
    shapes.append((height, width, channels))
    self.blocks = blocks
    self.latent_shapes = shapes

  def __call__(self, x, inverse: bool = False):
    if inverse:
      return self._inverse(x)
    h, total = self.logit(x)
    latents = []
    for level, block in enumerate(self.blocks):
      h, log_det = block(h)
      total = total + log_det
      if level < self.levels - 1:
        keep = h.shape[-1] - h.shape[-1] // 2
        latents.append(h[..., keep:].reshape(h.shape[0], -1))
        h = h[..., :keep]
    latents.append(h.reshape(h.shape[0], -1))
    return jnp.concatenate(latents, -1), total

  def _inverse(self, z):
    batch = z.shape[0]
    sizes = [int(np.prod(s)) for s in self.latent_shapes]
    pieces = jnp.split(z, np.cumsum(sizes)[:-1], axis=-1)
    h = pieces[-1].reshape(batch, *self.latent_shapes[-1])
    total = jnp.zeros((batch,))
    for level in reversed(range(self.levels)):
      if level < self.levels - 1:
        h = jnp.concatenate([h, pieces[level].reshape(batch, *self.latent_shapes[level])], -1)
      h, log_det = self.blocks[level](h, inverse=True)
      total = total + log_det
    x, log_det = self.logit(h, inverse=True)
    return x, total + log_det


def dequantise(key, levels_image, levels: int):
  """Integer pixels 0..levels-1 -> continuous values in [0, 1): (x + u) / levels, u ~ U[0, 1)."""
  return (levels_image + jax.random.uniform(key, levels_image.shape)) / levels


def bits_per_dim(log_density_unit_cube, num_dims: int, levels: int):
  """Bits per dimension of the discrete data from the log-density of its
  dequantised version on [0, 1]^D: a density on [0, levels)^D is that density
  divided by levels^D, and its negative log bounds -log P(x) from above."""
  return (-log_density_unit_cube + num_dims * math.log(levels)) / (num_dims * math.log(2))
