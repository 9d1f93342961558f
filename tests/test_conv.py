"""The project's convolution equals lax's, values and gradients, and keeps every
convolution of a scanned training step canonical (so XLA:CPU's fast kernel runs it)."""
import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from dl_course.models import conv


CASES = [  # input spatial, channels in/out, kernel, stride, padding, lhs dilation, rhs dilation
    ((28, 28), 1, 8, (5, 5), (1, 1), 'SAME', None, None),
    ((14, 14), 6, 4, (5, 5), (1, 1), 'VALID', None, None),
    ((28, 28), 3, 5, (3, 3), (2, 2), 'SAME', None, None),
    ((27, 26), 2, 3, (4, 3), (3, 2), 'SAME', None, None),
    ((16, 16), 2, 3, (7, 7), (2, 2), ((3, 3), (3, 3)), None, None),
    ((15, 15), 2, 3, (3, 3), (2, 1), ((2, 0), (1, 2)), None, None),
    ((9, 9), 2, 3, (3, 3), (1, 1), 'SAME', None, (2, 2)),
    ((7, 7), 3, 2, (4, 4), (1, 1), ((2, 2), (2, 2)), (2, 2), None),
    ((7, 6), 3, 2, (3, 3), (2, 1), ((1, 2), (0, 1)), (2, 3), (1, 2)),
    ((40,), 1, 5, (5,), (2,), ((1, 1),), None, None),
    ((6, 5, 4), 2, 3, (3, 3, 2), (1, 2, 1), 'SAME', None, None),
]


@pytest.mark.parametrize('case', CASES, ids=lambda c: f'{c[0]}-k{c[3]}-s{c[4]}-{c[5]}')
def test_values_and_gradients_equal_lax(case):
  spatial, c_in, c_out, kernel, strides, padding, lhs_dilation, rhs_dilation = case
  keys = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(keys[0], (3, *spatial, c_in))
  w = jax.random.normal(keys[1], (*kernel, c_in, c_out))
  dims = conv.canonical_dimension_numbers(len(spatial))

  def reference(x, w):
    return lax.conv_general_dilated(x, w, strides, padding, lhs_dilation, rhs_dilation, dims)

  def ours(x, w):
    return conv.conv_general_dilated(x, w, strides, padding, lhs_dilation, rhs_dilation, dims)

  y, pullback = jax.vjp(reference, x, w)
  y_ours, pullback_ours = jax.jit(lambda x, w: jax.vjp(ours, x, w))(x, w)
  np.testing.assert_array_equal(y_ours, y)
  cotangent = jax.random.normal(keys[2], y.shape)
  for ours_grad, ref_grad in zip(pullback_ours(cotangent), pullback(cotangent)):
    np.testing.assert_allclose(ours_grad, ref_grad, rtol=1e-5, atol=1e-5 * float(
        jnp.abs(ref_grad).max()))


def test_string_padding_with_input_dilation_is_refused_as_lax_refuses_it():
  x, w = jnp.ones((1, 5, 5, 1)), jnp.ones((3, 3, 1, 1))
  for conv_fn in (lax.conv_general_dilated, conv.conv_general_dilated):
    with pytest.raises(ValueError, match='String padding is not implemented'):
      conv_fn(x, w, (1, 1), 'SAME', (2, 2), None, conv.canonical_dimension_numbers(2))


def test_second_derivatives_equal_lax():
  """Hessian-vector products (the curvature studies) go through the custom VJP too."""
  keys = jax.random.split(jax.random.key(1), 3)
  x = jax.random.normal(keys[0], (2, 10, 10, 2))
  w = jax.random.normal(keys[1], (3, 3, 2, 3))
  v = jax.random.normal(keys[2], w.shape)
  dims = conv.canonical_dimension_numbers(2)

  def hvp(conv_fn):
    loss = lambda w: jnp.sum(jnp.tanh(conv_fn(x, w, (2, 2), 'SAME', None, None, dims)) ** 2)
    return jax.jvp(jax.grad(loss), (w,), (v,))[1]
  np.testing.assert_allclose(hvp(conv.conv_general_dilated), hvp(lax.conv_general_dilated),
                             rtol=1e-4, atol=1e-4)


def test_conv_module_is_flax_conv_with_the_same_parameters():
  x = jax.random.normal(jax.random.key(2), (4, 12, 12, 3))
  ours, flax_conv = (cls(5, (3, 3), strides=(2, 2), padding='SAME') for cls in (conv.Conv, nn.Conv))
  variables = flax_conv.init(jax.random.key(3), x)
  assert jax.tree.structure(ours.init(jax.random.key(3), x)) == jax.tree.structure(variables)
  np.testing.assert_array_equal(ours.apply(variables, x), flax_conv.apply(variables, x))


@pytest.mark.parametrize('padding', ['SAME', 'VALID'])
@pytest.mark.parametrize('kernel,stride', [(4, 2), (2, 3)])
def test_conv_transpose_equals_flax(padding, kernel, stride):
  x = jax.random.normal(jax.random.key(4), (2, 7, 7, 3))
  ours = conv.ConvTranspose(4, (kernel, kernel), strides=(stride, stride), padding=padding)
  theirs = nn.ConvTranspose(4, (kernel, kernel), strides=(stride, stride), padding=padding)
  variables = theirs.init(jax.random.key(5), x)
  assert jax.tree.structure(ours.init(jax.random.key(5), x)) == jax.tree.structure(variables)
  np.testing.assert_array_equal(ours.apply(variables, x), theirs.apply(variables, x))
  grad = lambda module: jax.grad(lambda v: jnp.sum(jnp.sin(module.apply(v, x))))(variables)
  for a, b in zip(jax.tree.leaves(grad(ours)), jax.tree.leaves(grad(theirs))):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _scanned_training_hlo(conv_fn) -> str:
  def loss(w, x):
    return jnp.mean(conv_fn(x, w, (1, 1), 'SAME', None, None,
                            conv.canonical_dimension_numbers(2)) ** 2)

  def steps(w, xs):
    return lax.scan(lambda w, x: (w - 0.1 * jax.grad(loss)(w, x), None), w, xs)[0]
  w, xs = jnp.ones((5, 5, 2, 4)), jnp.ones((3, 2, 12, 12, 2))
  return jax.jit(steps).lower(w, xs).compile().as_text()


def test_every_convolution_of_a_scanned_training_step_is_canonical():
  """The cause of the 10-20x slowdown, checked at its source: inside the while
  loop, lax's backward convolutions keep transposed dimension labels, ours do not."""
  labels = lambda hlo: re.findall(r'dim_labels=([\w>-]+)', hlo)
  ours = labels(_scanned_training_hlo(conv.conv_general_dilated))
  assert len(ours) == 2 and set(ours) == {'b01f_01io->b01f'}  # forward, kernel gradient
  assert set(labels(_scanned_training_hlo(lax.conv_general_dilated))) != {'b01f_01io->b01f'}
