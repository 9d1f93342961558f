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

Every split × every (p, τ), and every split × member, is one vmapped program
([S, G] runs); the runs of a split share its data order and, for MC dropout, its
dropout uniforms (common random numbers: `dropout_uniforms`).
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import special

from dl_course.data.sampler import chunk_indices
from dl_course.engine.loop import progress_bar
from dl_course.engine.steps import gaussian_head

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


def dropout_uniforms(key, num_rows: int, num_inputs: int, hidden: int):
  """Uniforms for the input and hidden dropout masks of `num_rows` rows. They are
  drawn once per split and step and thresholded at each run's rate: the runs of a
  split's (p, τ) grid share their random numbers (common random numbers), which
  makes the grid 12x cheaper to draw for (threefry dominates a step on CPU) and
  the comparison between its points less noisy; each run alone is ordinary dropout."""
  input_key, hidden_key = jax.random.split(key)
  return (jax.random.uniform(input_key, (num_rows, num_inputs)),
          jax.random.uniform(hidden_key, (num_rows, hidden)))


def dropout(x, rate, uniform):
  """Inverted dropout keeping the entries whose uniform is >= rate; None turns it off."""
  if uniform is None:
    return x
  return jnp.where(uniform >= rate, x / (1.0 - rate), 0.0)


def mlp_apply(params, x_BD, dropout_rate, uniforms):
  """Dropout -> Dense -> ReLU -> dropout -> Dense: dropout on the inputs and the
  hidden layer, as in Gal & Ghahramani's UCI network (uniforms None: deterministic)."""
  input_uniform, hidden_uniform = uniforms if uniforms is not None else (None, None)
  h = jax.nn.relu(dropout(x_BD, dropout_rate, input_uniform) @ params['w1'] + params['b1'])
  return dropout(h, dropout_rate, hidden_uniform) @ params['w2'] + params['b2']


# Steps per compiled segment: bounds the batch indices held at once (protein's
# final MC-dropout fit is 643k steps).
SEGMENT_STEPS = 20_000


def train_runs(loss_fn, params_SG, data_S: dict, hyper_SG: dict, *, num_steps: int,
               batch_size: int, learning_rate: float, seed: int, uniforms=None, snapshots=(),
               label: str = ''):
  """Adam on `loss_fn(params, x_B, y_B, hyper, uniforms)` for G runs on each of S
  splits at once (params and hyper lead with [S, G]; data with [S]); the params
  after `num_steps`, or with `snapshots` (earlier step counts) the list of params
  after each of (*snapshots, num_steps).

  Every run draws batch `step` from its split's rows at the same positions (data
  order is a pure function of (seed, step)). `uniforms(key, rows, inputs, hidden)`,
  if given, draws the step's dropout uniforms once per split from fold_in(split
  key, step), shared by the split's G runs. A snapshot is exactly the run of that
  length when Adam's rate is constant; `learning_rate` may also be an optax
  schedule of the step. A progress bar named `label` counts the steps (on a
  terminal).
  """
  num_rows = data_S['x'].shape[1]
  tx = optax.adam(learning_rate)
  keys_S = jax.random.split(jax.random.key(seed), len(data_S['x']))
  state = (params_SG, jax.vmap(jax.vmap(tx.init))(params_SG))
  stops = sorted({*snapshots, num_steps})
  bounds = sorted({*stops, *range(0, num_steps, SEGMENT_STEPS)} - {0})
  kept, start = [], 0
  with progress_bar(num_steps, desc=label or None, leave=False) as bar:
    for end in bounds:
      index_TB = jnp.asarray(chunk_indices(seed, start, end - start, num_rows, batch_size),
                             jnp.int32)
      state = _train_segment(loss_fn, tx, uniforms, state, data_S['x'], data_S['y'], hyper_SG,
                             keys_S, jnp.arange(start, end), index_TB)
      if end in stops:
        kept.append(state[0])
      if not bar.disable:  # the bar counts finished steps, not dispatched ones
        jax.block_until_ready(state)
        bar.update(end - start)
      start = end
  return kept if snapshots else kept[0]


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _train_segment(loss_fn, tx, uniforms, state, x_S, y_S, hyper_SG, keys_S, steps_T, index_TB):
  grad_G = jax.vmap(jax.grad(loss_fn), in_axes=(0, None, None, 0, None))
  update_G = jax.vmap(tx.update)

  def run_split(params_G, opt_state_G, x, y, hyper_G, key):
    hidden = params_G['w1'].shape[-1]

    def step(carry, inputs):
      params_G, opt_state_G = carry
      t, index_B = inputs
      x_B = x[index_B]
      noise = (uniforms(jax.random.fold_in(key, t), x_B.shape[0], x_B.shape[1], hidden)
               if uniforms is not None else None)
      updates, opt_state_G = update_G(grad_G(params_G, x_B, y[index_B], hyper_G, noise),
                                      opt_state_G, params_G)
      return (optax.apply_updates(params_G, updates), opt_state_G), None
    return jax.lax.scan(step, (params_G, opt_state_G), (steps_T, index_TB))[0]
  return jax.vmap(run_split)(*state, x_S, y_S, hyper_SG, keys_S)


# --- MC dropout -----------------------------------------------------------------------------

def dropout_loss(params, x_B, y_B, hyper, uniforms):
  pred = mlp_apply(params, x_B, hyper['p'], uniforms)[:, 0]
  l2 = sum(jnp.sum(params[k] ** 2) for k in ('w1', 'w2'))
  return jnp.mean((pred - y_B) ** 2) + hyper['weight_decay'] * l2


def dropout_scores(params_SG, x_SND, y_SN, p_SG, tau_SG, mean_y_S, std_y_S, key,
                   num_samples: int, chunk: int = 50):
  """Per run [S, G]: the log-likelihood of Gal's estimator in the original units,
  log mean_t N(y; ŷ_t, 1/τ) averaged over rows, and the MC mean prediction
  [S, G, N], from `num_samples` passes whose dropout uniforms each split's runs
  share. Splits go one after another (lax.map) and passes `chunk` at a time, with
  the log-sum-exp accumulated, so memory holds chunk x rows x (inputs + hidden)."""
  chunk = math.gcd(num_samples, chunk)

  def per_split(inputs):
    params_G, x, y, p_G, tau_G, mean_y, std_y, split_key = inputs
    hidden = params_G['w1'].shape[-1]
    predict_G = jax.vmap(lambda params, p, noise: mlp_apply(params, x, p, noise)[:, 0],
                         in_axes=(0, 0, None))

    def one_pass(t):
      noise = dropout_uniforms(jax.random.fold_in(split_key, t), *x.shape, hidden)
      return predict_G(params_G, p_G, noise) * std_y + mean_y  # [G, N]

    def add_chunk(carry, first):
      log_total, prediction_sum = carry
      samples = jax.vmap(one_pass)(first + jnp.arange(chunk))  # [C, G, N]
      log_terms = -0.5 * tau_G[None, :, None] * (y[None, None] - samples) ** 2
      log_total = jnp.logaddexp(log_total, jax.scipy.special.logsumexp(log_terms, axis=0))
      return (log_total, prediction_sum + samples.sum(0)), None

    start = (jnp.full((len(p_G), len(y)), -jnp.inf), jnp.zeros((len(p_G), len(y))))
    (log_total, prediction_sum), _ = jax.lax.scan(
        add_chunk, start, jnp.arange(0, num_samples, chunk))
    per_point = (log_total - jnp.log(num_samples) - 0.5 * jnp.log(2 * jnp.pi)
                 + 0.5 * jnp.log(tau_G)[:, None])
    return per_point.mean(-1), prediction_sum / num_samples

  keys = jax.random.split(key, len(x_SND))
  return jax.lax.map(per_split, (params_SG, x_SND, y_SN, p_SG, tau_SG, mean_y_S, std_y_S, keys))


_dropout_scores = jax.jit(dropout_scores, static_argnames=('num_samples', 'chunk'))


def dropout_log_likelihood(samples_TN, y_N, tau: float) -> float:
  """Mean over test points of log (1/T) Σ_t N(y; ŷ_t, 1/τ) (Gal's estimator), in numpy."""
  log_terms = -0.5 * tau * (y_N[None] - samples_TN) ** 2
  per_point = special.logsumexp(log_terms, axis=0) - np.log(len(samples_TN))
  return float(np.mean(per_point - 0.5 * np.log(2 * np.pi) + 0.5 * np.log(tau)))


def mc_dropout(x, y, train_idx, test_idx, *, dropout_rates, taus, hidden: int, epochs: int,
               batch_size: int, learning_rate: float, validation_samples: int,
               test_samples: int, seed: int, label: str = 'MC dropout') -> dict:
  """The protocol on every split: per-split RMSE, LL and the chosen (p, τ). `taus`
  are model precisions in the targets' original units (the benchmark's grid)."""
  grid = [(p, tau) for p in dropout_rates for tau in taus]
  fit_rows, validation_rows = inner_split(train_idx, seed)
  common = dict(hidden=hidden, epochs=epochs, batch_size=batch_size,
                learning_rate=learning_rate, seed=seed)
  chosen = _fit_and_score(x, y, fit_rows, validation_rows, grid, choose=True,
                          num_samples=validation_samples, label=f'{label}, choosing (p, tau)',
                          **common)
  best = [grid[int(np.argmax(chosen['ll'][s]))] for s in range(len(train_idx))]
  final = _fit_and_score(x, y, train_idx, test_idx, best, choose=False,
                         num_samples=test_samples, label=f'{label}, final fit', **common)
  return {'rmse': final['rmse'], 'll': final['ll'], 'chosen': best}


def _fit_and_score(x, y, fit_idx, score_idx, grid, *, choose: bool, num_samples: int,
                   hidden: int, epochs: int, batch_size: int, learning_rate: float,
                   seed: int, label: str = '') -> dict:
  """choose=True: every split × every (p, τ) in `grid` -> ll [S, G]. choose=False:
  split s with grid[s] -> rmse [S], ll [S]."""
  num_splits = len(fit_idx)
  xf, xs, mean_y, std_y = standardise(x[fit_idx], x[score_idx], y[fit_idx])
  yf = (y[fit_idx] - mean_y) / std_y
  settings = [grid] * num_splits if choose else [[setting] for setting in grid]
  p = np.array([[s[0] for s in row] for row in settings])  # [S, G]
  tau = np.array([[s[1] for s in row] for row in settings])
  n = fit_idx.shape[1]
  decay = PRIOR_LENGTH_SCALE ** 2 * (1 - p) / (2 * n * tau)
  keys = jax.random.split(jax.random.key(seed), p.size).reshape(p.shape)
  params = jax.vmap(jax.vmap(lambda k: init_mlp(k, x.shape[1], hidden, 1)))(keys)
  params = train_runs(dropout_loss, params,
                      {'x': jnp.asarray(xf, jnp.float32), 'y': jnp.asarray(yf, jnp.float32)},
                      {'p': jnp.asarray(p, jnp.float32),
                       'weight_decay': jnp.asarray(decay, jnp.float32)},
                      num_steps=max(1, epochs * n // batch_size), batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed, uniforms=dropout_uniforms,
                      label=label)
  y_score = y[score_idx]
  ll, mean_prediction = _dropout_scores(
      params, jnp.asarray(xs, jnp.float32), jnp.asarray(y_score, jnp.float32),
      jnp.asarray(p, jnp.float32), jnp.asarray(tau, jnp.float32),
      jnp.asarray(mean_y, jnp.float32), jnp.asarray(std_y, jnp.float32),
      jax.random.fold_in(jax.random.key(seed), 1), num_samples=num_samples)
  ll = np.asarray(ll, np.float64)
  if choose:
    return {'ll': ll}
  prediction = np.asarray(mean_prediction, np.float64)[:, 0]
  return {'rmse': np.sqrt(np.mean((prediction - y_score) ** 2, axis=1)), 'll': ll[:, 0]}


# --- deep ensembles -------------------------------------------------------------------------

def ensemble_loss(params, x_B, y_B, hyper, uniforms):
  """Gaussian NLL, plus the NLL at fast-gradient-sign inputs when epsilon > 0."""
  del uniforms

  def nll(inputs):
    mean, variance = gaussian_head(mlp_apply(params, inputs, 0.0, None))
    return jnp.mean(0.5 * jnp.log(variance) + 0.5 * (y_B - mean) ** 2 / variance)

  clean = nll(x_B)
  direction = jnp.sign(jax.grad(nll)(x_B))
  adversarial = nll(jax.lax.stop_gradient(x_B + hyper['epsilon_D'] * direction))
  return clean + jnp.where(hyper['adversarial'], adversarial, 0.0)


def deep_ensembles(x, y, train_idx, test_idx, *, members: int, hidden: int, epochs_grid,
                   batch_size: int, learning_rate: float, adversarial_epsilon: float,
                   seed: int, cosine_epochs=(), label: str = 'deep ensembles') -> dict:
  """Per-split RMSE and LL of the M-member mixture, each split trained by the
  recipe whose mixture had the best log-likelihood on the split's inner
  validation rows (as MC dropout chooses (p, τ)): a constant rate for one of
  `epochs_grid` epochs (snapshots of one run), or a rate decayed to zero on a
  cosine over one of `cosine_epochs` epochs (a run each)."""
  common = dict(members=members, hidden=hidden, batch_size=batch_size,
                learning_rate=learning_rate, adversarial_epsilon=adversarial_epsilon, seed=seed)
  recipes = ([(int(e), False) for e in sorted(epochs_grid)]
             + [(int(e), True) for e in sorted(cosine_epochs)])
  num_splits = len(train_idx)
  if len(recipes) > 1:
    fit_rows, validation_rows = inner_split(train_idx, seed)
    scores = _fit_recipes(x, y, fit_rows, validation_rows, recipes, range(len(recipes)), common,
                          f'{label}, choosing the recipe')
    best = np.argmax(np.stack([scores[k]['ll'] for k in range(len(recipes))]), axis=0)
  else:
    best = np.zeros(num_splits, int)
  final = _fit_recipes(x, y, train_idx, test_idx, recipes, set(best.tolist()), common,
                       f'{label}, final fit')
  pick = lambda key: np.array([final[best[s]][key][s] for s in range(num_splits)])
  return {'rmse': pick('rmse'), 'll': pick('ll'),
          'chosen_epochs': [recipes[k][0] for k in best],
          'chosen_cosine': [recipes[k][1] for k in best]}


def _fit_recipes(x, y, fit_idx, score_idx, recipes, wanted, common, label: str = '') -> dict:
  """{recipe index: {'rmse': [S], 'll': [S]}} for the `wanted` recipes: the
  constant-rate ones as snapshots of one run, each cosine one on its own."""
  scored = {}
  constant = [k for k, (_, cosine) in enumerate(recipes) if not cosine]
  if any(k in wanted for k in constant):
    grid = tuple(recipes[k][0] for k in constant)
    scored.update(zip(constant, _fit_ensembles(x, y, fit_idx, score_idx, epochs_grid=grid,
                                               label=f'{label}, constant rate', **common)))
  for k, (epochs, cosine) in enumerate(recipes):
    if cosine and k in wanted:
      scored[k] = _fit_ensembles(x, y, fit_idx, score_idx, epochs_grid=(epochs,),
                                 cosine=True, label=f'{label}, cosine {epochs} epochs',
                                 **common)[0]
  return scored


def _fit_ensembles(x, y, fit_idx, score_idx, *, members: int, hidden: int, epochs_grid,
                   batch_size: int, learning_rate: float, adversarial_epsilon: float,
                   seed: int, cosine: bool = False, label: str = '') -> list[dict]:
  """One training run per split × member for the longest epochs in the grid,
  scored at each grid point: [{'rmse': [S], 'll': [S]}] in grid order. With
  `cosine` the grid is one length and the rate decays to zero over it."""
  num_splits = len(fit_idx)
  xf, xs, mean_y, std_y = standardise(x[fit_idx], x[score_idx], y[fit_idx])
  yf = (y[fit_idx] - mean_y) / std_y
  epsilon = adversarial_epsilon * (xf.max(1) - xf.min(1))  # [S, D]
  keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 2),
                          num_splits * members).reshape(num_splits, members)
  params = jax.vmap(jax.vmap(lambda k: init_mlp(k, x.shape[1], hidden, 2)))(keys)
  n = fit_idx.shape[1]
  steps = [max(1, epochs * n // batch_size) for epochs in epochs_grid]
  if cosine:
    assert len(steps) == 1, 'a cosine schedule ends with its own run: no snapshots'
    learning_rate = optax.cosine_decay_schedule(learning_rate, steps[0])
  snapshots = train_runs(ensemble_loss, params,
                         {'x': jnp.asarray(xf, jnp.float32), 'y': jnp.asarray(yf, jnp.float32)},
                         {'epsilon_D': jnp.asarray(np.repeat(epsilon[:, None], members, 1),
                                                   jnp.float32),
                          'adversarial': jnp.full((num_splits, members), adversarial_epsilon > 0)},
                         num_steps=steps[-1], snapshots=steps[:-1], batch_size=batch_size,
                         learning_rate=learning_rate, seed=seed + 2, label=label)
  snapshots = snapshots if len(steps) > 1 else [snapshots]
  y_score = y[score_idx]
  predict = jax.vmap(jax.vmap(lambda p, xx: gaussian_head(mlp_apply(p, xx, 0.0, None)),
                              in_axes=(0, None)))
  scored = []
  for params in snapshots:
    means, variances = predict(params, jnp.asarray(xs, jnp.float32))  # [S, M, N] each
    means = np.asarray(means, np.float64) * std_y[:, :, None] + mean_y[:, :, None]
    variances = np.asarray(variances, np.float64) * std_y[:, :, None] ** 2
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
