"""Public tests of the implicit-regularisation module."""
import numpy as np

POINTS = {
    'test_min_norm_solution_interpolates_with_the_smallest_norm': ('exercise 1: minimum norm', 2),
    'test_gradient_descent_from_zero_reaches_it': ('exercise 1: minimum norm', 2),
}


def _problem():
  rng = np.random.default_rng(0)
  return rng.normal(size=(10, 40)), rng.normal(size=10)


def test_min_norm_solution_interpolates_with_the_smallest_norm(submission):
  X, y = _problem()
  w = submission.min_norm_solution(X, y)
  np.testing.assert_allclose(X @ w, y, atol=1e-8)
  np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-8)


def test_gradient_descent_from_zero_reaches_it(submission):
  X, y = _problem()
  w = submission.gradient_descent(X, y, np.zeros(40), 0.1, 3000)
  np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-4)
  one_step = submission.gradient_descent(X, y, np.zeros(40), 0.1, 1)
  np.testing.assert_allclose(one_step, 0.1 * X.T @ y / 10, atol=1e-12)
