"""Spectra of a symmetric operator given only `matvec`: top eigenpairs (Lanczos
via scipy's ARPACK, or power iteration), Hutchinson's trace estimate and the
spectral density by stochastic Lanczos quadrature (Ghorbani et al. 2019).

All take `matvec: float64 [d] -> float64 [d]`, such as `FlatHessian.matvec`.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import linalg as sparse_linalg

MatVec = Callable[[np.ndarray], np.ndarray]


def top_eigenpairs(matvec: MatVec, dim: int, k: int = 1, *, which: str = 'LA',
                   v0: np.ndarray | None = None, tol: float = 1e-6, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
  """The k largest eigenvalues (which='LA': algebraic; 'LM': magnitude), in
  descending order, and their eigenvectors as columns [dim, k].

  `v0` warm-starts Lanczos, e.g. from the previous step's top eigenvector when
  tracking sharpness along training.
  """
  if not 1 <= k < dim:
    raise ValueError(f'k={k} must be in [1, {dim - 1}] for a {dim}-dimensional operator')
  operator = sparse_linalg.LinearOperator((dim, dim), matvec=matvec, dtype=np.float64)
  if v0 is None:
    v0 = np.random.default_rng(seed).standard_normal(dim)
  values, vectors = sparse_linalg.eigsh(operator, k=k, which=which, v0=v0, tol=tol)
  order = np.argsort(-(np.abs(values) if which == 'LM' else values))
  return values[order], vectors[:, order]


def power_iteration(matvec: MatVec, dim: int, *, num_iters: int = 1000, tol: float = 1e-7,
                    seed: int = 0, v0: np.ndarray | None = None) -> tuple[float, np.ndarray]:
  """The eigenvalue of largest magnitude, with its sign, and its unit eigenvector.

  Converges at rate |λ2/λ1| per iteration; stops when the Rayleigh quotient
  changes by less than `tol` relative. The sign comes from the Rayleigh
  quotient, so a dominant negative eigenvalue is reported as negative.
  """
  v = np.random.default_rng(seed).standard_normal(dim) if v0 is None else np.array(v0, float)
  v /= np.linalg.norm(v)
  value = 0.0
  for _ in range(num_iters):
    w = matvec(v)
    new_value = float(v @ w)
    norm = np.linalg.norm(w)
    if norm == 0.0:
      return 0.0, v
    v = w / norm
    if abs(new_value - value) <= tol * abs(new_value):
      return new_value, v
    value = new_value
  return value, v


def hutchinson_trace(matvec: MatVec, dim: int, *, num_samples: int = 100, seed: int = 0
                     ) -> tuple[float, float]:
  """tr(A) ≈ mean of zᵀAz over Rademacher z; returns (estimate, standard error)."""
  rng = np.random.default_rng(seed)
  samples = np.array([z @ matvec(z) for z in rng.choice([-1.0, 1.0], (num_samples, dim))])
  return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(num_samples))


def lanczos_tridiagonal(matvec: MatVec, v0: np.ndarray, num_steps: int
                        ) -> tuple[np.ndarray, np.ndarray]:
  """m steps of Lanczos with full reorthogonalisation from `v0`: the diagonal
  (alpha, [m]) and off-diagonal (beta, [m-1]) of the tridiagonal matrix."""
  basis = np.zeros((num_steps, v0.size))
  alpha, beta = np.zeros(num_steps), np.zeros(max(num_steps - 1, 0))
  v = v0 / np.linalg.norm(v0)
  for j in range(num_steps):
    basis[j] = v
    w = matvec(v)
    alpha[j] = v @ w
    # Full reorthogonalisation (twice is enough): plain Lanczos loses orthogonality
    # in floating point and grows ghost copies of the extreme eigenvalues.
    for _ in range(2):
      w -= basis[:j + 1].T @ (basis[:j + 1] @ w)
    if j == num_steps - 1:
      break
    beta[j] = np.linalg.norm(w)
    if beta[j] < 1e-12:  # invariant subspace found: the spectrum seen is exact.
      return alpha[:j + 1], beta[:j]
    v = w / beta[j]
  return alpha, beta


def spectral_density(matvec: MatVec, dim: int, grid: np.ndarray, *, num_probes: int = 4,
                     num_steps: int = 60, sigma: float | None = None, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Stochastic Lanczos quadrature: the eigenvalue density on `grid`, smoothed
  by a Gaussian of width `sigma` (default: 1 % of the spectrum's span).

  Returns (density on grid [G], Ritz values [probes, m], weights [probes, m]);
  the weights of each probe sum to 1, so the density integrates to about 1.
  """
  rng = np.random.default_rng(seed)
  nodes, weights = [], []
  for _ in range(num_probes):
    alpha, beta = lanczos_tridiagonal(matvec, rng.standard_normal(dim), num_steps)
    tridiagonal = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    ritz_values, ritz_vectors = np.linalg.eigh(tridiagonal)
    nodes.append(ritz_values)
    weights.append(ritz_vectors[0] ** 2)
  size = max(len(n) for n in nodes)
  nodes = np.array([np.pad(n, (0, size - len(n))) for n in nodes])
  weights = np.array([np.pad(w, (0, size - len(w))) for w in weights])
  if sigma is None:
    sigma = 0.01 * max(nodes.max() - nodes.min(), 1e-12)
  kernel = np.exp(-0.5 * ((grid[:, None, None] - nodes[None]) / sigma) ** 2)
  density = (kernel * weights[None]).sum(axis=(1, 2)) / (num_probes * sigma * np.sqrt(2 * np.pi))
  return density, nodes, weights
