"""The UCI regression benchmark's protocol (Hernández-Lobato & Adams 2015; Gal &
Ghahramani 2016 with Gal's 2018 grid search; Lakshminarayanan et al. 2017) on
the nine datasets and their published splits (dl_course/data/uci_benchmark.py).

One hidden ReLU layer (50 units; 100 for protein); inputs and targets
standardised with each training split's statistics; RMSE and test
log-likelihood in the original units.

- MC dropout: dropout on the inputs and the hidden layer, weight decay
  (1-p)·l²/(2Nτ) with prior length-scale l = 0.01; for each split, (p, τ) from
  the benchmark's grid chosen by validation log-likelihood on an inner 80/20
  split of the training rows (a seeded permutation of them; Gal's code takes the
  last 20 % of his randomly ordered index file), then one network trained on the
  whole training split. The test log-likelihood is log mean_t N(y; ŷ_t, 1/τ) over
  T forward passes, ŷ_t in the original units (Gal's estimator).
- Deep ensembles: M members with mean and variance heads trained on the
  Gaussian NLL, with fast-gradient-sign adversarial examples at ε = 1 % of each
  input's range; predictions are the mixture's mean and variance.

Every split × every (p, τ), and every split × member, is one vmapped program.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import special

from dl_course.data.sampler import chunk_indices

PRIOR_LENGTH_SCALE = 1e-2


def stacked_splits(splits, count: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """The first `count` (0: all) published splits as train and test row arrays
  [S, n_train], [S, n_test] (every split of a dataset has the same sizes)."""
  chosen = splits[:count] if count else splits
  return np.stack([train for train, _ in chosen]), np.stack([test for _, test in chosen])


def inner_split(train_idx: np.ndarray, seed: int, fraction: float = 0.8
                ) -> tuple[np.ndarray, np.ndarray]:
  """Each split's training rows, permuted by (seed, split), cut into the rows that
  fit [S, 0.8 n] and the validation rows [S, n - 0.8 n] that choose (p, τ)."""
  permuted = np.stack([rows[np.random.default_rng([seed, 2018, s]).permutation(len(rows))]
                       for s, rows in enumerate(train_idx)])
  cut = int(round(fraction * train_idx.shape[1]))
  return permuted[:, :cut], permuted[:, cut:]


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


# Steps per compiled segment: bounds the batch indices held at once (protein's
# final MC-dropout fit is 643k steps).
SEGMENT_STEPS = 20_000


def train_runs(loss_fn, params_R, data_R: dict, hyper_R: dict, *, num_steps: int,
               batch_size: int, learning_rate: float, seed: int, snapshots=()):
  """Adam on `loss_fn(params, x_B, y_B, hyper, key)` for R runs at once; the
  params after `num_steps`, or with `snapshots` (earlier step counts) the list
  of params after each of (*snapshots, num_steps).

  Every run draws batch `step` from its own rows at the same positions (data
  order is a pure function of (seed, step)); step keys are fold_in(run key, step).
  A snapshot is therefore exactly the run of that length (Adam's rate is constant).
  """
  num_rows = data_R['x'].shape[1]
  tx = optax.adam(learning_rate)
  keys_R = jax.random.split(jax.random.key(seed), len(data_R['x']))
  state = (params_R, jax.vmap(tx.init)(params_R))
  stops = sorted({*snapshots, num_steps})
  bounds = sorted({*stops, *range(0, num_steps, SEGMENT_STEPS)} - {0})
  kept, start = [], 0
  for end in bounds:
    index_TB = jnp.asarray(chunk_indices(seed, start, end - start, num_rows, batch_size),
                           jnp.int32)
    state = _train_segment(loss_fn, tx, state, data_R['x'], data_R['y'], hyper_R, keys_R,
                           jnp.arange(start, end), index_TB)
    if end in stops:
      kept.append(state[0])
    start = end
  return kept if snapshots else kept[0]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _train_segment(loss_fn, tx, state, x_R, y_R, hyper_R, keys_R, steps_T, index_TB):
  def run_one(params, opt_state, x, y, hyper, key):
    def step(carry, inputs):
      params, opt_state = carry
      t, index_B = inputs
      grads = jax.grad(loss_fn)(params, x[index_B], y[index_B], hyper,
                                jax.random.fold_in(key, t))
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None
    return jax.lax.scan(step, (params, opt_state), (steps_T, index_TB))[0]
  return jax.vmap(run_one)(*state, x_R, y_R, hyper_R, keys_R)


# --- MC dropout -----------------------------------------------------------------------------

def dropout_loss(params, x_B, y_B, hyper, key):
  pred = mlp_apply(params, x_B, hyper['p'], key)[:, 0]
  l2 = sum(jnp.sum(params[k] ** 2) for k in ('w1', 'w2'))
  return jnp.mean((pred - y_B) ** 2) + hyper['weight_decay'] * l2


def dropout_scores(params_R, x_RND, y_RN, p_R, tau_R, mean_y_R, std_y_R, key,
                   num_samples: int):
  """Per run: test log-likelihood (Gal's estimator, original units) and the MC
  mean prediction [R, N], from `num_samples` dropout masks. Runs are scored one
  after another (lax.map), so memory holds one run's [T, N] samples at a time."""
  def per_run(inputs):
    params, x, y, p, tau, mean_y, std_y, run_key = inputs
    samples = jax.vmap(lambda t: mlp_apply(params, x, p, jax.random.fold_in(run_key, t))[:, 0])(
        jnp.arange(num_samples)) * std_y + mean_y
    log_terms = -0.5 * tau * (y[None] - samples) ** 2
    per_point = (jax.scipy.special.logsumexp(log_terms, axis=0) - jnp.log(num_samples)
                 - 0.5 * jnp.log(2 * jnp.pi) + 0.5 * jnp.log(tau))
    return jnp.mean(per_point), jnp.mean(samples, axis=0)
  keys = jax.random.split(key, len(x_RND))
  return jax.lax.map(per_run, (params_R, x_RND, y_RN, p_R, tau_R, mean_y_R, std_y_R, keys))


_dropout_scores = jax.jit(dropout_scores, static_argnames='num_samples')


def dropout_log_likelihood(samples_TN, y_N, tau: float) -> float:
  """Mean over test points of log (1/T) Σ_t N(y; ŷ_t, 1/τ) (Gal's estimator), in numpy."""
  log_terms = -0.5 * tau * (y_N[None] - samples_TN) ** 2
  per_point = special.logsumexp(log_terms, axis=0) - np.log(len(samples_TN))
  return float(np.mean(per_point - 0.5 * np.log(2 * np.pi) + 0.5 * np.log(tau)))


def mc_dropout(x, y, train_idx, test_idx, *, dropout_rates, taus, hidden: int, epochs: int,
               batch_size: int, learning_rate: float, validation_samples: int,
               test_samples: int, seed: int) -> dict:
  """The protocol on every split: per-split RMSE, LL and the chosen (p, τ). `taus`
  are model precisions in the targets' original units (the benchmark's grid)."""
  grid = [(p, tau) for p in dropout_rates for tau in taus]
  fit_rows, validation_rows = inner_split(train_idx, seed)
  common = dict(hidden=hidden, epochs=epochs, batch_size=batch_size,
                learning_rate=learning_rate, seed=seed)
  chosen = _fit_and_score(x, y, fit_rows, validation_rows, grid, choose=True,
                          num_samples=validation_samples, **common)
  best = [grid[int(np.argmax(chosen['ll'][s]))] for s in range(len(train_idx))]
  final = _fit_and_score(x, y, train_idx, test_idx, best, choose=False,
                         num_samples=test_samples, **common)
  return {'rmse': final['rmse'], 'll': final['ll'], 'chosen': best}


def _fit_and_score(x, y, fit_idx, score_idx, grid, *, choose: bool, num_samples: int,
                   hidden: int, epochs: int, batch_size: int, learning_rate: float,
                   seed: int) -> dict:
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
  keys = jax.random.split(jax.random.key(seed), len(settings))
  params = jax.vmap(lambda k: init_mlp(k, x.shape[1], hidden, 1))(keys)
  params = train_runs(dropout_loss, params,
                      {'x': jnp.asarray(xf[split_of_run], jnp.float32),
                       'y': jnp.asarray(yf[split_of_run], jnp.float32)},
                      {'p': jnp.asarray(p, jnp.float32),
                       'weight_decay': jnp.asarray(decay, jnp.float32)},
                      num_steps=max(1, epochs * n // batch_size), batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed)
  y_true = y[score_idx][split_of_run]
  ll, mean_prediction = _dropout_scores(
      params, jnp.asarray(xs[split_of_run], jnp.float32), jnp.asarray(y_true, jnp.float32),
      jnp.asarray(p, jnp.float32), jnp.asarray(tau, jnp.float32),
      jnp.asarray(mean_y[split_of_run], jnp.float32),
      jnp.asarray(std_y[split_of_run], jnp.float32),
      jax.random.fold_in(jax.random.key(seed), 1), num_samples=num_samples)
  ll = np.asarray(ll, np.float64)
  if choose:
    return {'ll': ll.reshape(num_splits, len(grid))}
  rmse = np.sqrt(np.mean((np.asarray(mean_prediction, np.float64) - y_true) ** 2, axis=1))
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


def deep_ensembles(x, y, train_idx, test_idx, *, members: int, hidden: int, epochs_grid,
                   batch_size: int, learning_rate: float, adversarial_epsilon: float,
                   seed: int) -> dict:
  """Per-split RMSE and LL of the M-member mixture, each split trained for the
  number of epochs in `epochs_grid` whose mixture had the best log-likelihood
  on the split's inner validation rows (as MC dropout chooses (p, τ))."""
  common = dict(members=members, hidden=hidden, epochs_grid=tuple(sorted(epochs_grid)),
                batch_size=batch_size, learning_rate=learning_rate,
                adversarial_epsilon=adversarial_epsilon, seed=seed)
  num_splits = len(train_idx)
  if len(common['epochs_grid']) > 1:
    fit_rows, validation_rows = inner_split(train_idx, seed)
    scores = _fit_ensembles(x, y, fit_rows, validation_rows, **common)
    best = np.argmax(np.stack([s['ll'] for s in scores]), axis=0)
  else:
    best = np.zeros(num_splits, int)
  final = _fit_ensembles(x, y, train_idx, test_idx, **common)
  pick = lambda key: np.array([final[best[s]][key][s] for s in range(num_splits)])
  return {'rmse': pick('rmse'), 'll': pick('ll'),
          'chosen_epochs': [int(common['epochs_grid'][k]) for k in best]}


def _fit_ensembles(x, y, fit_idx, score_idx, *, members: int, hidden: int, epochs_grid,
                   batch_size: int, learning_rate: float, adversarial_epsilon: float,
                   seed: int) -> list[dict]:
  """One training run per split × member for the longest epochs in the grid,
  scored at each grid point: [{'rmse': [S], 'll': [S]}] in grid order."""
  num_splits = len(fit_idx)
  xf, xs, mean_y, std_y = standardise(x[fit_idx], x[score_idx], y[fit_idx])
  yf = (y[fit_idx] - mean_y) / std_y
  split_of_run = np.repeat(np.arange(num_splits), members)
  epsilon = adversarial_epsilon * (xf.max(1) - xf.min(1))  # [S, D]
  keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 2), len(split_of_run))
  params = jax.vmap(lambda k: init_mlp(k, x.shape[1], hidden, 2))(keys)
  n = fit_idx.shape[1]
  steps = [max(1, epochs * n // batch_size) for epochs in epochs_grid]
  snapshots = train_runs(ensemble_loss, params,
                         {'x': jnp.asarray(xf[split_of_run], jnp.float32),
                          'y': jnp.asarray(yf[split_of_run], jnp.float32)},
                         {'epsilon_D': jnp.asarray(epsilon[split_of_run], jnp.float32),
                          'adversarial': jnp.full(len(split_of_run), adversarial_epsilon > 0)},
                         num_steps=steps[-1], snapshots=steps[:-1], batch_size=batch_size,
                         learning_rate=learning_rate, seed=seed + 2)
  snapshots = snapshots if len(steps) > 1 else [snapshots]
  y_score = y[score_idx]
  scored = []
  for params in snapshots:
    outputs = jax.vmap(lambda p, xx: mlp_apply(p, xx, 0.0, None))(
        params, jnp.asarray(xs[split_of_run], jnp.float32))
    means, variances = jax.vmap(gaussian_head)(outputs)
    means = np.asarray(means, np.float64).reshape(num_splits, members, -1)
    variances = np.asarray(variances, np.float64).reshape(num_splits, members, -1)
    means = means * std_y[:, :, None] + mean_y[:, :, None]
    variances = variances * std_y[:, :, None] ** 2
    mixture_mean = means.mean(1)
    mixture_variance = (variances + means ** 2).mean(1) - mixture_mean ** 2
    scored.append({
        'rmse': np.sqrt(np.mean((mixture_mean - y_score) ** 2, axis=1)),
        'll': -np.mean(0.5 * np.log(2 * np.pi * mixture_variance)
                       + 0.5 * (y_score - mixture_mean) ** 2 / mixture_variance, axis=1)})
  return scored


def mean_and_spread(values) -> dict:
  """Mean over splits with both spreads the published tables use: the standard
  deviation over splits (ddof 1) and the standard error of the mean."""
  values = np.asarray(values, np.float64)
  sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
  return {'mean': float(values.mean()), 'sd': sd, 'se': sd / np.sqrt(len(values))}
