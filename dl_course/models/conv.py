"""Convolutions whose gradients XLA:CPU runs at full speed inside loops.

Why this exists. XLA:CPU hands a convolution to its fast Eigen kernel only in
the canonical form: input [batch, spatial..., feature], kernel [spatial...,
in, out], output [batch, spatial..., feature] (HLO `b01f_01io->b01f`). JAX's
derivative rules express the input gradient with a flipped, in/out-swapped
kernel (`01oi`) and the kernel gradient with batch and feature roles swapped
(`f01b_i01o->01bf`). At the top level of a program XLA's
`convolution-canonicalization` pass wraps such convolutions in transposes, but
that pass visits only the entry computation: inside a `while` body, which is
what `lax.scan` becomes, the backward convolutions stay as they are and are
emitted as naive element loops, 10-20x slower (WORKSPACE.md, "Convolutions
inside scan"). Here the backward pass is written out with explicit transposes,
so every convolution in the program is canonical wherever it sits, and the
numbers are the bits that XLA's own canonicalisation gives at the top level
(tested against `lax.conv_general_dilated` and its gradients).

Reverse mode, and forward over reverse (Hessian-vector products,
`jax.hessian`), work as with lax; forward mode applied to the convolution itself
(`jax.jvp`, `jax.jacfwd`) does not, as for any `jax.custom_vjp`: use `jacrev`.

`Conv` is Flax's `nn.Conv` with this convolution plugged in (same parameters,
same names); `ConvTranspose` is the strided transposed convolution (a
fractionally-strided forward convolution) with `nn.ConvTranspose`'s parameters.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Pads = tuple[tuple[int, int], ...]


def canonical_dimension_numbers(num_spatial: int) -> tuple[str, str, str]:
  """('NHWC', 'HWIO', 'NHWC') and its 1-D / 3-D analogues."""
  if not 1 <= num_spatial <= 3:
    raise ValueError(f'{num_spatial} spatial dimensions: 1 to 3 are supported')
  spatial = 'HWD'[:num_spatial]
  return f'N{spatial}C', f'{spatial}IO', f'N{spatial}C'


def _canonical_conv(x, w, strides, pads, lhs_dilation, rhs_dilation, precision):
  return lax.conv_general_dilated(
      x, w, strides, pads, lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
      dimension_numbers=canonical_dimension_numbers(x.ndim - 2), precision=precision)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6))
def _conv(x, w, strides, pads, lhs_dilation, rhs_dilation, precision):
  return _canonical_conv(x, w, strides, pads, lhs_dilation, rhs_dilation, precision)


def _conv_forward(x, w, strides, pads, lhs_dilation, rhs_dilation, precision):
  return _canonical_conv(x, w, strides, pads, lhs_dilation, rhs_dilation, precision), (x, w)


def _conv_backward(strides, pads, lhs_dilation, rhs_dilation, precision, residuals, g):
  """Per spatial axis, with n input, m output, k kernel taps, stride s, input
  dilation l, kernel dilation r, padding (lo, hi) and K = (k - 1) r + 1:
    y[j] = sum_t xp[j s + t r] w[t],   xp = x dilated by l, padded by (lo, hi).
  Input gradient: g dilated by s, correlated with the flipped kernel (dilation
  r), read every l-th position from lo on. Kernel gradient: xp correlated with
  g dilated by s, read every r-th position, with batch and feature swapped."""
  x, w = residuals
  num_spatial = x.ndim - 2
  sizes = zip(x.shape[1:-1], g.shape[1:-1], w.shape[:-2], strides, pads, lhs_dilation,
              rhs_dilation)
  dx_pads, dw_pads = [], []
  for n, m, k, s, (lo, hi), l, r in sizes:
    span = (k - 1) * r + 1
    g_span = (m - 1) * s + 1
    dx_pads.append((span - 1 - lo, (n - 1) * l + span - g_span - (span - 1 - lo)))
    padded = (n - 1) * l + 1 + lo + hi
    dw_pads.append((lo, hi - (padded - g_span - (k - 1) * r)))
  spatial = tuple(range(num_spatial))
  flipped = jnp.swapaxes(lax.rev(w, spatial), -1, -2)
  dx = _canonical_conv(g, flipped, lhs_dilation, tuple(dx_pads), strides, rhs_dilation, precision)
  # Kernel gradient as a canonical convolution: the input's features act as its
  # batch, the batch as its features; g [B, m..., O] is the kernel [m..., B, O].
  x_as_batch = jnp.moveaxis(x, (0, -1), (-1, 0))
  g_as_kernel = jnp.moveaxis(g, 0, -2)
  dw = _canonical_conv(x_as_batch, g_as_kernel, rhs_dilation, tuple(dw_pads), lhs_dilation,
                       strides, precision)
  return dx, jnp.moveaxis(dw, 0, -2)


_conv.defvjp(_conv_forward, _conv_backward)


def conv_general_dilated(lhs, rhs, window_strides: Sequence[int], padding: str | Sequence,
                         lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None,
                         dimension_numbers=None, feature_group_count: int = 1,
                         batch_group_count: int = 1, precision=None,
                         preferred_element_type=None) -> jax.Array:
  """`lax.conv_general_dilated` for canonical layouts (NHWC input, HWIO kernel),
  with gradients that stay canonical. The signature is lax's, so Flax's
  `nn.Conv(conv_general_dilated=...)` takes it. Grouped convolutions and other
  layouts are passed to lax unchanged (the project uses neither), and so is string
  padding with input dilation, which lax refuses."""
  num_spatial = lhs.ndim - 2
  canonical = lax.conv_dimension_numbers(lhs.shape, rhs.shape,
                                         canonical_dimension_numbers(num_spatial))
  requested = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers or
                                         canonical_dimension_numbers(num_spatial))
  input_dilated = lhs_dilation is not None and any(d != 1 for d in lhs_dilation)
  if (requested != canonical or feature_group_count != 1 or batch_group_count != 1
      or preferred_element_type is not None or (isinstance(padding, str) and input_dilated)):
    return lax.conv_general_dilated(
        lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
        feature_group_count, batch_group_count, precision, preferred_element_type)
  ones = (1,) * num_spatial
  lhs_dilation = tuple(lhs_dilation or ones)
  rhs_dilation = tuple(rhs_dilation or ones)
  if isinstance(padding, str):  # as lax resolves it
    dilated_k = [(k - 1) * r + 1 for k, r in zip(rhs.shape[:-2], rhs_dilation)]
    padding = lax.padtype_to_pads(lhs.shape[1:-1], dilated_k, window_strides, padding)
  pads = tuple((int(lo), int(hi)) for lo, hi in padding)
  return _conv(lhs, rhs, tuple(window_strides), pads, lhs_dilation, rhs_dilation, precision)


class Conv(nn.Conv):
  """`nn.Conv` (same fields, same parameters) on the convolution above."""
  conv_general_dilated: Callable | None = conv_general_dilated


def transpose_padding(kernel: int, stride: int, padding: str) -> tuple[int, int]:
  """Padding of the dilated input of a transposed convolution, as Keras's
  Conv2DTranspose (and so `lax.conv_transpose`) defines it: 'SAME' gives
  stride x the input length, 'VALID' adds max(kernel - stride, 0) more."""
  if padding == 'SAME':
    total = kernel + stride - 2
    before = kernel - 1 if stride > kernel - 1 else int(np.ceil(total / 2))
  elif padding == 'VALID':
    total = kernel + stride - 2 + max(kernel - stride, 0)
    before = kernel - 1
  else:
    raise ValueError(f"padding {padding!r}: 'SAME' or 'VALID'")
  return before, total - before


class ConvTranspose(nn.Module):
  """`nn.ConvTranspose` without `transpose_kernel` (kernel [spatial..., in, out],
  optional bias): the input dilated by the strides, then a stride-1 convolution."""
  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] | None = None
  padding: str = 'SAME'
  use_bias: bool = True
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, x):
    kernel_size = tuple(self.kernel_size)
    strides = tuple(self.strides or (1,) * len(kernel_size))
    kernel = self.param('kernel', self.kernel_init, (*kernel_size, x.shape[-1], self.features))
    pads = tuple(transpose_padding(k, s, self.padding) for k, s in zip(kernel_size, strides))
    y = conv_general_dilated(x, kernel, (1,) * len(kernel_size), pads, lhs_dilation=strides)
    if self.use_bias:
      y = y + self.param('bias', self.bias_init, (self.features,))
    return y
