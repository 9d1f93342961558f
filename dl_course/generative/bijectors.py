"""Normalizing-flow bijectors, written by hand as Flax modules.

Every bijector is called as `module.apply(variables, x, inverse=False)` and
returns `(y, log_det)`:
  forward  (inverse=False): data x -> latent y, log_det = log|det ∂y/∂x|;
  inverse  (inverse=True):  latent y -> data x, log_det = log|det ∂x/∂y|
                            (= minus the forward one at the same point).
log_det has one entry per example (the leading axis). A flow's density is
log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|, and sampling runs the inverse.

Vectors are [batch, D]; images are [batch, H, W, C] (NHWC).
"""
from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from dl_course.models.conv import Conv


def sum_per_example(values):
  return values.reshape(values.shape[0], -1).sum(-1)


def coupling_mask(shape: Sequence[int], kind: str, parity: int) -> np.ndarray:
  """1 where the coupling layer passes the input through (the conditioner's
  input), 0 where it transforms it. `shape` excludes the batch axis.
    half:         first/second half of a vector's entries
    checkerboard: alternate pixels of an image (RealNVP)
    channel:      first/second half of an image's channels (RealNVP, Glow)"""
  if kind == 'half':
    (dim,) = shape
    mask = (np.arange(dim) < dim // 2).astype(np.float32)
  elif kind == 'checkerboard':
    height, width, channels = shape
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing='ij')
    mask = np.repeat(((rows + cols) % 2 == 0)[..., None], channels, -1).astype(np.float32)
  elif kind == 'channel':
    height, width, channels = shape
    mask = np.broadcast_to(np.arange(channels) < channels // 2,
                           (height, width, channels)).astype(np.float32)
  else:
    raise ValueError(f'mask kind {kind!r}: one of half, checkerboard, channel')
  return mask if parity % 2 == 0 else 1.0 - mask


class MLPConditioner(nn.Module):
  """Vector input -> 2 x D outputs (log-scale and shift); the last layer starts
  at zero, so the coupling starts as the identity."""
  hidden: Sequence[int]

  @nn.compact
  def __call__(self, x):
    h = x
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    return nn.Dense(2 * x.shape[-1], kernel_init=nn.initializers.zeros)(h)


class ConvConditioner(nn.Module):
  """Image input -> 2 x C output channels: 3x3, 1x1, 3x3 convolutions as in
  Glow, the last zero-initialised."""
  hidden: int

  @nn.compact
  def __call__(self, x):
    h = nn.relu(Conv(self.hidden, (3, 3))(x))
    h = nn.relu(Conv(self.hidden, (1, 1))(h))
    return Conv(2 * x.shape[-1], (3, 3), kernel_init=nn.initializers.zeros)(h)


class AffineCoupling(nn.Module):
  """RealNVP's affine coupling (Dinh et al. 2017): with b the mask,
    y = b*x + (1-b) * (x * exp(s(b*x)) + t(b*x)),
  log|det| = sum over the transformed entries of s. s = scale * tanh(raw)
  keeps the first steps of training from blowing up."""
  mask_kind: str
  parity: int
  hidden: Sequence[int] | int

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    mask = jnp.asarray(coupling_mask(x.shape[1:], self.mask_kind, self.parity))
    conditioner = (ConvConditioner(self.hidden) if x.ndim == 4
                   else MLPConditioner(tuple(self.hidden)))
    raw_log_scale, shift = jnp.split(conditioner(x * mask), 2, axis=-1)
    scale = self.param('scale', nn.initializers.ones, (x.shape[-1],))
    log_scale = scale * jnp.tanh(raw_log_scale) * (1 - mask)
    shift = shift * (1 - mask)
    if inverse:
      return x * mask + (1 - mask) * (x - shift) * jnp.exp(-log_scale), \
          -sum_per_example(log_scale)
    return x * mask + (1 - mask) * (x * jnp.exp(log_scale) + shift), sum_per_example(log_scale)


class ActNorm(nn.Module):
  """Per-channel y = (x + loc) * exp(log_scale) (Glow), with data-dependent
  initialisation: the first batch it sees at `init` leaves it with zero mean
  and unit variance per channel."""

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    axes = tuple(range(x.ndim - 1))
    loc = self.param('loc', lambda _: -jnp.mean(x, axes))
    log_scale = self.param('log_scale', lambda _: -jnp.log(jnp.std(x, axes) + 1e-6))
    pixels = int(np.prod(x.shape[1:-1]))
    log_det = jnp.full((x.shape[0],), pixels * jnp.sum(log_scale))
    if inverse:
      return x * jnp.exp(-log_scale) - loc, -log_det
    return (x + loc) * jnp.exp(log_scale), log_det


def _lu_init(key, channels: int):
  """P, L, U, sign(s), log|s| of a random rotation W = P L (U + diag(s))."""
  rotation, _ = jnp.linalg.qr(jax.random.normal(key, (channels, channels)))
  permutation, lower, upper = jax.scipy.linalg.lu(rotation)
  diagonal = jnp.diag(upper)
  return permutation, lower, jnp.triu(upper, 1), jnp.sign(diagonal), jnp.log(jnp.abs(diagonal))


class Invertible1x1Conv(nn.Module):
  """Glow's learned channel mixing y = x W at every pixel, with W = P L (U + diag(s))
  LU-parameterised so log|det W| = sum log|s| costs O(C). P and sign(s) stay
  fixed (held in the 'constants' collection)."""

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    channels = x.shape[-1]
    init = self.variable('constants', 'lu', lambda: _lu_init(self.make_rng('params'), channels))
    permutation, lower0, upper0, sign, log_abs0 = init.value
    lower = self.param('lower', lambda _: lower0)
    upper = self.param('upper', lambda _: upper0)
    log_abs = self.param('log_abs_diagonal', lambda _: log_abs0)
    eye = jnp.eye(channels)
    lower = jnp.tril(lower, -1) + eye
    weight = permutation @ lower @ (jnp.triu(upper, 1) + jnp.diag(sign * jnp.exp(log_abs)))
    pixels = int(np.prod(x.shape[1:-1]))
    log_det = jnp.full((x.shape[0],), pixels * jnp.sum(log_abs))
    if inverse:
      return x @ jnp.linalg.inv(weight), -log_det
    return x @ weight, log_det


class Squeeze(nn.Module):
  """[H, W, C] -> [H/2, W/2, 4C]: each 2x2 block of pixels becomes channels (volume-preserving)."""

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    batch = x.shape[0]
    zero = jnp.zeros((batch,))
    if inverse:
      _, height, width, channels = x.shape
      x = x.reshape(batch, height, width, 2, 2, channels // 4).transpose(0, 1, 3, 2, 4, 5)
      return x.reshape(batch, 2 * height, 2 * width, channels // 4), zero
    _, height, width, channels = x.shape
    x = x.reshape(batch, height // 2, 2, width // 2, 2, channels).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(batch, height // 2, width // 2, 4 * channels), zero


class Reverse(nn.Module):
  """Reverses the order of a vector's entries (between autoregressive layers)."""

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    return x[..., ::-1], jnp.zeros((x.shape[0],))


class MaskedDense(nn.Module):
  features: int
  mask: np.ndarray  # [in, out]; 1 where the connection is allowed
  zero_init: bool = False

  @nn.compact
  def __call__(self, x):
    init = nn.initializers.zeros if self.zero_init else nn.initializers.lecun_normal()
    kernel = self.param('kernel', init, (x.shape[-1], self.features))
    bias = self.param('bias', nn.initializers.zeros, (self.features,))
    return x @ (kernel * jnp.asarray(self.mask)) + bias


def made_masks(dim: int, hidden: Sequence[int]) -> list[np.ndarray]:
  """MADE's masks (Germain et al. 2015) for the natural input order: output i
  depends only on inputs < i. Hidden degrees cycle through 1..dim-1."""
  degrees = [np.arange(1, dim + 1)]
  for width in hidden:
    degrees.append(np.arange(width) % max(dim - 1, 1) + 1)
  masks = [(d_out[None, :] >= d_in[:, None]).astype(np.float32)
           for d_in, d_out in zip(degrees[:-1], degrees[1:])]
  output_degrees = np.arange(1, dim + 1)
  masks.append((output_degrees[None, :] > degrees[-1][:, None]).astype(np.float32))
  return masks


class MADE(nn.Module):
  """Autoregressive network: x -> (mu, alpha), each [batch, D], with
  (mu_i, alpha_i) functions of x_<i only."""
  hidden: Sequence[int]

  @nn.compact
  def __call__(self, x):
    dim = x.shape[-1]
    masks = made_masks(dim, self.hidden)
    h = x
    for width, mask in zip(self.hidden, masks[:-1]):
      h = nn.relu(MaskedDense(width, mask)(h))
    last = np.concatenate([masks[-1], masks[-1]], axis=1)
    mu, alpha = jnp.split(MaskedDense(2 * dim, last, zero_init=True)(h), 2, axis=-1)
    return mu, jnp.clip(alpha, -7.0, 7.0)


class MAFLayer(nn.Module):
  """Masked autoregressive flow layer (Papamakarios et al. 2017):
    z_i = (x_i - mu_i(x_<i)) * exp(-alpha_i(x_<i)),   log|det| = -sum alpha.
  Density evaluation is one pass; sampling is D passes (x_i needs x_<i)."""
  hidden: Sequence[int]

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    made = MADE(tuple(self.hidden))
    if not inverse:
      mu, alpha = made(x)
      return (x - mu) * jnp.exp(-alpha), -alpha.sum(-1)
    z = x
    out = jnp.zeros_like(z)
    for _ in range(z.shape[-1]):  # entry i is exact after pass i+1
      mu, alpha = made(out)
      out = z * jnp.exp(alpha) + mu
    return out, alpha.sum(-1)


class Chain(nn.Module):
  """Bijectors applied in order (forward) or in reverse order (inverse)."""
  layers: Sequence[nn.Module]

  def __call__(self, x, inverse: bool = False):
    total = jnp.zeros((x.shape[0],))
    for layer in (reversed(self.layers) if inverse else self.layers):
      x, log_det = layer(x, inverse=inverse)
      total = total + log_det
    return x, total


def rational_quadratic_spline(x, raw_widths, raw_heights, raw_derivatives, bound: float,
                              inverse: bool = False, min_size: float = 1e-3):
  """Monotone rational-quadratic spline on [-bound, bound], identity outside
  (Durkan et al. 2019, "Neural Spline Flows"). raw_* [..., K], [..., K], [..., K-1]
  per entry of x [...]. Returns (y, log|dy/dx|) elementwise; with inverse=True,
  (x, log|dx/dy|) by solving the bin's quadratic."""
  num_bins = raw_widths.shape[-1]

  def knots(raw):
    sizes = min_size + (1 - min_size * num_bins) * jax.nn.softmax(raw, -1)
    edges = jnp.concatenate([jnp.zeros(sizes.shape[:-1] + (1,)), jnp.cumsum(sizes, -1)], -1)
    edges = 2 * bound * edges - bound
    return edges.at[..., -1].set(bound), 2 * bound * sizes

  x_knots, widths = knots(raw_widths)
  y_knots, heights = knots(raw_heights)
  ones = jnp.ones(raw_derivatives.shape[:-1] + (1,))  # slope 1 at the ends meets the identity tails
  derivatives = jnp.concatenate([ones, min_size + jax.nn.softplus(raw_derivatives), ones], -1)

  inside = jnp.abs(x) < bound
  z = jnp.clip(x, -bound, bound)
  search = y_knots if inverse else x_knots
  k = jnp.clip(jnp.sum(z[..., None] >= search[..., 1:-1], -1), 0, num_bins - 1)[..., None]
  pick = lambda a: jnp.take_along_axis(a, k, -1)[..., 0]
  x_k, w_k, y_k, h_k = pick(x_knots), pick(widths), pick(y_knots), pick(heights)
  d_k, d_next = pick(derivatives), pick(derivatives[..., 1:])
  slope = h_k / w_k
  curvature = d_next + d_k - 2 * slope

  if inverse:
    dy = z - y_k
    a = h_k * (slope - d_k) + dy * curvature
    b = h_k * d_k - dy * curvature
    c = -slope * dy
    xi = jnp.clip(2 * c / (-b - jnp.sqrt(jnp.maximum(b ** 2 - 4 * a * c, 0.0))), 0.0, 1.0)
    out = x_k + xi * w_k
  else:
    xi = jnp.clip((z - x_k) / w_k, 0.0, 1.0)
    out = y_k + h_k * (slope * xi ** 2 + d_k * xi * (1 - xi)) / (slope + curvature * xi * (1 - xi))
  one_minus = 1 - xi
  denominator = slope + curvature * xi * one_minus
  log_derivative = (2 * jnp.log(slope) + jnp.log(d_next * xi ** 2 + 2 * slope * xi * one_minus
                                                  + d_k * one_minus ** 2)
                    - 2 * jnp.log(denominator))
  if inverse:
    log_derivative = -log_derivative
  return jnp.where(inside, out, x), jnp.where(inside, log_derivative, 0.0)


class SplineCoupling(nn.Module):
  """Coupling layer whose transformed half goes through a rational-quadratic
  spline with `num_bins` bins on [-bound, bound] (its knots set by an MLP of
  the other half). Vectors only."""
  parity: int
  hidden: Sequence[int]
  num_bins: int = 8
  bound: float = 4.0

  @nn.compact
  def __call__(self, x, inverse: bool = False):
    mask = jnp.asarray(coupling_mask(x.shape[1:], 'half', self.parity))
    dim, bins = x.shape[-1], self.num_bins
    h = x * mask
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    raw = nn.Dense(dim * (3 * bins - 1), kernel_init=nn.initializers.zeros)(h)
    raw = raw.reshape(x.shape[0], dim, 3 * bins - 1)
    y, log_derivative = rational_quadratic_spline(
        x, raw[..., :bins], raw[..., bins:2 * bins], raw[..., 2 * bins:], self.bound, inverse)
    keep = mask.astype(bool)
    return jnp.where(keep, x, y), jnp.sum(jnp.where(keep, 0.0, log_derivative), -1)
