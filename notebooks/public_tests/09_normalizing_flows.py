"""Public tests of the normalizing-flows module."""
import jax
import jax.numpy as jnp
import numpy as np

POINTS = {'test_forward_log_det_matches_jacobian': ('exercise 1: affine coupling', 3),
          'test_inverse_undoes_forward': ('exercise 1: affine coupling', 2)}

MASK = jnp.array([0.0, 1.0, 1.0, 0.0, 1.0])


def _conditioner(x):
  return jnp.cos(x[::-1]) * 0.7, jnp.tanh(jnp.roll(x, 1))


def _layer(submission, x):
  shift, log_scale = _conditioner(MASK * x)
  return submission.coupling_forward(x, MASK, shift, log_scale)


def test_forward_log_det_matches_jacobian(submission):
  x = jnp.array([0.4, -0.3, 1.1, 0.9, -2.0])
  _, log_det = _layer(submission, x)
  jacobian = jax.jacfwd(lambda x: _layer(submission, x)[0])(x)
  np.testing.assert_allclose(log_det, jnp.linalg.slogdet(jacobian)[1], atol=1e-5)


def test_inverse_undoes_forward(submission):
  x = jnp.array([1.5, 0.2, -0.7, -1.1, 0.3])
  y, _ = _layer(submission, x)
  np.testing.assert_allclose(y * MASK, x * MASK)
  shift, log_scale = _conditioner(MASK * y)
  np.testing.assert_allclose(submission.coupling_inverse(y, MASK, shift, log_scale), x, atol=1e-5)
