"""Public tests of week 5."""
import jax
import jax.numpy as jnp
import numpy as np

POINTS = {'test_reparameterise_has_the_right_moments': ('exercise 1: reparameterisation and KL', 2),
          'test_reparameterise_is_differentiable': ('exercise 1: reparameterisation and KL', 1),
          'test_gaussian_kl_closed_form': ('exercise 1: reparameterisation and KL', 2)}


def test_reparameterise_has_the_right_moments(submission):
  eps = jax.random.normal(jax.random.key(0), (100_000, 2))
  mean, log_var = jnp.array([1.0, -2.0]), jnp.array([0.0, np.log(4.0)])
  z = np.asarray(submission.reparameterise(mean, log_var, eps))
  np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.03)
  np.testing.assert_allclose(z.std(0), [1.0, 2.0], atol=0.03)


def test_reparameterise_is_differentiable(submission):
  grad = jax.grad(lambda m, lv: jnp.sum(submission.reparameterise(m, lv, jnp.ones(3))),
                  argnums=(0, 1))(jnp.zeros(3), jnp.zeros(3))
  np.testing.assert_allclose(grad[0], 1.0)
  np.testing.assert_allclose(grad[1], 0.5)


def test_gaussian_kl_closed_form(submission):
  mean, log_var = jnp.array([[0.0, 0.0], [1.0, -1.0]]), jnp.array([[0.0, 0.0], [0.5, -0.5]])
  kl = np.asarray(submission.gaussian_kl(mean, log_var))
  expected = 0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1 - log_var, axis=-1)
  assert kl.shape == (2,), 'one KL per row: sum over the last axis'
  np.testing.assert_allclose(kl, expected, rtol=1e-6)
  assert kl[0] == 0.0
