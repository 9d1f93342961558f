"""The curvature toolkit against the dense Hessian of a small model."""
import jax
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from dl_course.curvature import (FlatHessian, chunk_dataset, dataset_loss, hutchinson_trace,
                                 lanczos_tridiagonal, power_iteration, spectral_density,
                                 top_eigenpairs)
from dl_course.data import load
from dl_course.models import MLP


@pytest.fixture(scope='module')
def problem():
  """A tanh MLP on 300 two-moons points, a few hundred parameters."""
  train = load('moons', 'train')
  x, y = train.x[:300], train.y[:300]
  model = MLP(num_classes=2, hidden_sizes=(12, 12), activation='tanh')
  params = model.init(jax.random.key(0), x[:1])['params']

  def per_example_loss(p, x_C, y_C):
    return optax.softmax_cross_entropy_with_integer_labels(model.apply({'params': p}, x_C), y_C)

  loss = dataset_loss(per_example_loss, chunk_dataset(x, y, chunk_size=64))  # 300 = 4*64 + 44
  flat, unravel = ravel_pytree(params)
  full_loss = lambda f: per_example_loss(unravel(f), x, y).mean()
  dense = np.asarray(jax.hessian(full_loss)(flat), np.float64)
  return loss, params, full_loss, flat, dense


def test_chunked_loss_and_hvp_match_the_unchunked_ones(problem):
  loss, params, full_loss, flat, dense = problem
  np.testing.assert_allclose(loss(params), full_loss(flat), rtol=1e-6)
  v = np.random.default_rng(0).standard_normal(flat.size)
  np.testing.assert_allclose(FlatHessian(loss, params).matvec(v), dense @ v,
                             rtol=1e-4, atol=1e-5 * np.abs(dense @ v).max())


def test_top_eigenvalues_match_the_dense_hessian(problem):
  loss, params, _, _, dense = problem
  exact = np.sort(np.linalg.eigvalsh(dense))[::-1]
  operator = FlatHessian(loss, params)
  values, vectors = top_eigenpairs(operator.matvec, operator.dim, k=5)
  np.testing.assert_allclose(values, exact[:5], rtol=1e-4)
  residual = dense @ vectors - vectors * values
  assert np.abs(residual).max() < 1e-3 * exact[0]


def test_power_iteration_finds_the_top_eigenvalue(problem):
  loss, params, _, _, dense = problem
  exact = np.linalg.eigvalsh(dense)
  operator = FlatHessian(loss, params)
  value, vector = power_iteration(operator.matvec, operator.dim, num_iters=3000, tol=1e-9)
  top = exact[np.argmax(np.abs(exact))]
  assert abs(value - top) <= 1e-4 * abs(top)
  np.testing.assert_allclose(np.linalg.norm(vector), 1.0, rtol=1e-6)


def test_power_iteration_keeps_the_sign_of_a_dominant_negative_eigenvalue():
  rng = np.random.default_rng(1)
  basis, _ = np.linalg.qr(rng.standard_normal((30, 30)))
  spectrum = np.concatenate([[-5.0, 3.0], rng.uniform(-1, 1, 28)])
  matrix = basis @ np.diag(spectrum) @ basis.T
  value, vector = power_iteration(lambda v: matrix @ v, 30, num_iters=5000, tol=1e-12)
  assert value == pytest.approx(-5.0, rel=1e-6)
  assert abs(vector @ basis[:, 0]) == pytest.approx(1.0, abs=1e-5)
  values, _ = top_eigenpairs(lambda v: matrix @ v, 30, k=2, which='LM')
  np.testing.assert_allclose(values, [-5.0, 3.0], rtol=1e-8)
  values, _ = top_eigenpairs(lambda v: matrix @ v, 30, k=1, which='LA')
  np.testing.assert_allclose(values, [3.0], rtol=1e-8)


def test_hutchinson_trace_is_within_its_error_bar(problem):
  loss, params, _, _, dense = problem
  operator = FlatHessian(loss, params)
  estimate, stderr = hutchinson_trace(operator.matvec, operator.dim, num_samples=300)
  assert abs(estimate - np.trace(dense)) < 4 * stderr
  assert stderr < 0.2 * abs(np.trace(dense))


def test_lanczos_and_spectral_density_recover_a_known_spectrum():
  rng = np.random.default_rng(2)
  dim = 200
  basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
  spectrum = np.concatenate([np.full(190, 0.0), np.linspace(5, 10, 10)])
  matrix = basis @ np.diag(spectrum) @ basis.T
  matvec = lambda v: matrix @ v
  alpha, beta = lanczos_tridiagonal(matvec, rng.standard_normal(dim), 40)
  ritz = np.linalg.eigvalsh(np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1))
  assert ritz.max() == pytest.approx(10.0, rel=1e-8)  # 11 distinct values: exact in 11 steps
  grid = np.linspace(-1, 11, 1201)
  density, _, _ = spectral_density(matvec, dim, grid, num_probes=8, num_steps=30, sigma=0.1)
  mass = np.sum(density) * (grid[1] - grid[0])
  assert mass == pytest.approx(1.0, abs=0.02)
  near_zero = np.sum(density[np.abs(grid) < 1]) * (grid[1] - grid[0])
  assert near_zero == pytest.approx(0.95, abs=0.05)  # 190 of 200 eigenvalues are 0
