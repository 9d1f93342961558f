"""The UCI regression protocol (Hernández-Lobato & Adams 2015; Gal & Ghahramani
2016; Lakshminarayanan et al. 2017) on data that ships offline.

20 random 90/10 splits from a fixed seed; one hidden layer of 50 ReLU units;
inputs and targets standardised on each training split; RMSE and test
log-likelihood in the original units, mean and standard error over splits.

- MC dropout: dropout on the hidden layer, weight decay (1-p)·l²/(2Nτ) with prior
  length-scale l = 0.01; (p, τ) chosen per split on an inner 80/20 validation
  split by log-likelihood, then retrained on the whole training split. The test
  log-likelihood is log mean_t N(y; ŷ_t, 1/τ) over T forward passes, ŷ_t in the
  original units, as in Gal's code.
- Deep ensembles: 5 members with mean and variance heads trained on the Gaussian
  NLL (optionally with fast-gradient-sign adversarial examples at ε = 1 % of each
  input's range); predictions are the mixture's mean and variance.

Every split, every (p, τ) and every member is one vmapped run: the dropout rate
is an input (not a static module attribute), so the whole grid is one jit.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import special

from dl_course.data.sampler import chunk_indices
from dl_course.errors import ConfigError

PRIOR_LENGTH_SCALE = 1e-2


def load_regression(name: str) -> tuple[np.ndarray, np.ndarray]:
  """(x [N, D], y [N]) float64: 'boston' (mlxtend's copy, 506 rows), 'diabetes' (sklearn)."""
  if name == 'boston':
    from mlxtend.data import boston_housing_data
    x, y = boston_housing_data()
  elif name == 'diabetes':
    from sklearn.datasets import load_diabetes
    x, y = load_diabetes(return_X_y=True)
  else:
    raise ConfigError('dataset', name, 'one of boston, diabetes')
  return np.asarray(x, np.float64), np.asarray(y, np.float64)


def random_splits(num_examples: int, num_splits: int, seed: int, test_fraction: float = 0.1
                  ) -> tuple[np.ndarray, np.ndarray]:
  """Train and test indices [S, n_train], [S, n_test] of `num_splits` random splits."""
  rng = np.random.default_rng([seed, 2015])
  num_test = int(round(test_fraction * num_examples))
  perms = np.stack([rng.permutation(num_examples) for _ in range(num_splits)])
  return perms[:, num_test:], perms[:, :num_test]


def standardise(x_train, x_other, y_train):
  """Statistics of the training rows (per split): z-scored x; y's mean and std."""
  mean_x, std_x = x_train.mean(-2, keepdims=True), x_train.std(-2, keepdims=True)
  std_x = np.where(std_x == 0, 1.0, std_x)
  mean_y, std_y = y_train.mean(-1, keepdims=True), y_train.std(-1, keepdims=True)
  return (x_train - mean_x) / std_x, (x_other - mean_x) / std_x, mean_y, std_y


def init_mlp(key, num_inputs: int, hidden: int, num_outputs: int) -> dict:
  """LeCun-normal weights (Flax Dense's default) and zero biases; one hidden layer."""
  k1, k2 = jax.random.split(key)
  return {'w1': jax.random.normal(k1, (num_inputs, hidden)) / jnp.sqrt(num_inputs),
          'b1': jnp.zeros(hidden),
          'w2': jax.random.normal(k2, (hidden, num_outputs)) / jnp.sqrt(hidden),
          'b2': jnp.zeros(num_outputs)}


def dropout(x, rate, key):
  """Inverted dropout; key None turns it off."""
  if key is None:
    return x
  keep = 1.0 - rate
  return jnp.where(jax.random.bernoulli(key, keep, x.shape), x / keep, 0.0)


def mlp_apply(params, x_BD, dropout_rate, key):
  """Dropout -> Dense -> ReLU -> dropout -> Dense: dropout on the inputs and the
  hidden layer, as in Gal & Ghahramani's UCI network (key None: deterministic)."""
  input_key, hidden_key = jax.random.split(key) if key is not None else (None, None)
  h = jax.nn.relu(dropout(x_BD, dropout_rate, input_key) @ params['w1'] + params['b1'])
  return dropout(h, dropout_rate, hidden_key) @ params['w2'] + params['b2']


def gaussian_head(outputs_B2):
  """(mean, variance): variance = softplus + 1e-6, as in Lakshminarayanan et al."""
  return outputs_B2[:, 0], jax.nn.softplus(outputs_B2[:, 1]) + 1e-6


def train_runs(loss_fn, params_R, data_R: dict, hyper_R: dict, *, num_steps: int,
               batch_size: int, learning_rate: float, seed: int):
  """Adam on `loss_fn(params, x_B, y_B, hyper, key)` for R runs at once.

  Every run draws batch `step` from its own rows at the same positions (data
  order is a pure function of (seed, step)); step keys are fold_in(run key, step).
  """
  num_rows = data_R['x'].shape[1]
  index_TB = jnp.asarray(chunk_indices(seed, 0, num_steps, num_rows, batch_size))
  tx = optax.adam(learning_rate)
  keys_R = jax.random.split(jax.random.key(seed), len(data_R['x']))

  def run_one(params, x, y, hyper, key):
    def step(carry, inputs):
      params, opt_state = carry
      t, index_B = inputs
      grads = jax.grad(loss_fn)(params, x[index_B], y[index_B], hyper,
                                jax.random.fold_in(key, t))
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None
    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)),
                                  (jnp.arange(num_steps), index_TB))
    return params

  return jax.jit(jax.vmap(run_one))(params_R, data_R['x'], data_R['y'], hyper_R, keys_R)


# --- MC dropout -----------------------------------------------------------------------------

def dropout_loss(params, x_B, y_B, hyper, key):
  pred = mlp_apply(params, x_B, hyper['p'], key)[:, 0]
  l2 = sum(jnp.sum(params[k] ** 2) for k in ('w1', 'w2'))
  return jnp.mean((pred - y_B) ** 2) + hyper['weight_decay'] * l2


@functools.partial(jax.jit, static_argnames='num_samples')
def dropout_samples(params_R, x_RND, p_R, key, num_samples: int):
  """[R, T, N] predictions (standardised units) under T dropout masks per run."""
  def per_run(params, x, p, run_key):
    return jax.vmap(lambda t: mlp_apply(params, x, p, jax.random.fold_in(run_key, t))[:, 0])(
        jnp.arange(num_samples))
  keys = jax.random.split(key, len(x_RND))
  return jax.vmap(per_run)(params_R, x_RND, p_R, keys)


def dropout_log_likelihood(samples_TN, y_N, tau: float) -> float:
  """Mean over test points of log (1/T) Σ_t N(y; ŷ_t, 1/τ) (Gal's estimator)."""
  log_terms = -0.5 * tau * (y_N[None] - samples_TN) ** 2
  per_point = special.logsumexp(log_terms, axis=0) - np.log(len(samples_TN))
  return float(np.mean(per_point - 0.5 * np.log(2 * np.pi) + 0.5 * np.log(tau)))


def mc_dropout(x, y, train_idx, test_idx, config, taus) -> dict:
  """The protocol for every split; returns per-split RMSE, LL and the chosen (p, τ).
  `taus` are model precisions in the targets' original units (a per-dataset grid)."""
  grid = [(p, tau) for p in config.dropout_rates for tau in taus]
  num_splits = len(train_idx)
  # Inner 80/20 split of each training split chooses (p, τ).
  inner = int(round(0.8 * train_idx.shape[1]))
  chosen = _fit_and_score(x, y, train_idx[:, :inner], train_idx[:, inner:], grid, config,
                          config.validation_samples, choose=True)
  best = [grid[int(np.argmax(chosen['ll'][s]))] for s in range(num_splits)]
  final = _fit_and_score(x, y, train_idx, test_idx, best, config, config.test_samples,
                         choose=False)
  return {'rmse': final['rmse'], 'll': final['ll'], 'chosen': best}


def _fit_and_score(x, y, fit_idx, score_idx, grid, config, num_samples, choose: bool):
  """choose=True: every split × every (p, τ) in `grid` -> ll [S, G]. choose=False:
  split s with grid[s] -> rmse [S], ll [S]."""
  num_splits = len(fit_idx)
  xf, xs, mean_y, std_y = standardise(x[fit_idx], x[score_idx], y[fit_idx])
  yf = (y[fit_idx] - mean_y) / std_y
  if choose:
    split_of_run = np.repeat(np.arange(num_splits), len(grid))
    settings = grid * num_splits
  else:
    split_of_run, settings = np.arange(num_splits), grid
  p = np.array([s[0] for s in settings])
  tau = np.array([s[1] for s in settings])
  n = fit_idx.shape[1]
  decay = PRIOR_LENGTH_SCALE ** 2 * (1 - p) / (2 * n * tau)
  keys = jax.random.split(jax.random.key(config.seed), len(settings))
  params = jax.vmap(lambda k: init_mlp(k, x.shape[1], config.hidden, 1))(keys)
  params = train_runs(dropout_loss, params,
                      {'x': jnp.asarray(xf[split_of_run], jnp.float32),
                       'y': jnp.asarray(yf[split_of_run], jnp.float32)},
                      {'p': jnp.asarray(p, jnp.float32),
                       'weight_decay': jnp.asarray(decay, jnp.float32)},
                      num_steps=config.train.epochs * n // config.train.batch_size,
                      batch_size=config.train.batch_size,
                      learning_rate=config.optimizer.learning_rate,
                      seed=config.seed)
  samples = np.asarray(dropout_samples(params, jnp.asarray(xs[split_of_run], jnp.float32),
                                       jnp.asarray(p, jnp.float32),
                                       jax.random.fold_in(jax.random.key(config.seed), 1),
                                       num_samples), np.float64)
  samples = samples * std_y[split_of_run][:, :, None] + mean_y[split_of_run][:, :, None]
  y_true = y[score_idx][split_of_run]
  ll = np.array([dropout_log_likelihood(samples[r], y_true[r], tau[r])
                 for r in range(len(settings))])
  if choose:
    return {'ll': ll.reshape(num_splits, len(grid))}
  rmse = np.sqrt(np.mean((samples.mean(1) - y_true) ** 2, axis=1))
  return {'rmse': rmse, 'll': ll}


# --- deep ensembles -------------------------------------------------------------------------

def ensemble_loss(params, x_B, y_B, hyper, key):
  """Gaussian NLL, plus the NLL at fast-gradient-sign inputs when epsilon > 0."""
  del key

  def nll(inputs):
    mean, variance = gaussian_head(mlp_apply(params, inputs, 0.0, None))
    return jnp.mean(0.5 * jnp.log(variance) + 0.5 * (y_B - mean) ** 2 / variance)

  clean = nll(x_B)
  direction = jnp.sign(jax.grad(nll)(x_B))
  adversarial = nll(jax.lax.stop_gradient(x_B + hyper['epsilon_D'] * direction))
  return clean + jnp.where(hyper['adversarial'], adversarial, 0.0)


def deep_ensembles(x, y, train_idx, test_idx, config) -> dict:
  num_splits, members = len(train_idx), config.ensemble_size
  xf, xs, mean_y, std_y = standardise(x[train_idx], x[test_idx], y[train_idx])
  yf = (y[train_idx] - mean_y) / std_y
  split_of_run = np.repeat(np.arange(num_splits), members)
  epsilon = config.adversarial_epsilon * (xf.max(1) - xf.min(1))  # [S, D]
  keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), 2),
                          len(split_of_run))
  params = jax.vmap(lambda k: init_mlp(k, x.shape[1], config.hidden, 2))(keys)
  n = train_idx.shape[1]
  params = train_runs(ensemble_loss, params,
                      {'x': jnp.asarray(xf[split_of_run], jnp.float32),
                       'y': jnp.asarray(yf[split_of_run], jnp.float32)},
                      {'epsilon_D': jnp.asarray(epsilon[split_of_run], jnp.float32),
                       'adversarial': jnp.full(len(split_of_run), config.adversarial_epsilon > 0)},
                      num_steps=config.ensemble_epochs * n // config.train.batch_size,
                      batch_size=config.train.batch_size,
                      learning_rate=config.ensemble_learning_rate,
                      seed=config.seed + 2)
  outputs = jax.vmap(lambda p, xx: mlp_apply(p, xx, 0.0, None))(
      params, jnp.asarray(xs[split_of_run], jnp.float32))
  means, variances = jax.vmap(gaussian_head)(outputs)
  means = np.asarray(means, np.float64).reshape(num_splits, members, -1)
  variances = np.asarray(variances, np.float64).reshape(num_splits, members, -1)
  means = means * std_y[:, :, None] + mean_y[:, :, None]
  variances = variances * std_y[:, :, None] ** 2
  mixture_mean = means.mean(1)
  mixture_variance = (variances + means ** 2).mean(1) - mixture_mean ** 2
  y_test = y[test_idx]
  rmse = np.sqrt(np.mean((mixture_mean - y_test) ** 2, axis=1))
  ll = -np.mean(0.5 * np.log(2 * np.pi * mixture_variance)
                + 0.5 * (y_test - mixture_mean) ** 2 / mixture_variance, axis=1)
  return {'rmse': rmse, 'll': ll}


def mean_and_standard_error(values) -> tuple[float, float]:
  values = np.asarray(values, np.float64)
  return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))
