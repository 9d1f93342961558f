"""Tricks of the trade, the rest: batch normalisation, dropout, early stopping,
weight decay chosen by k-fold cross-validation, learning-rate schedules and
gradient clipping, each on MNIST-1D (4,000 training signals: the last
`validation_size` held out for early stopping; the 1,000 test signals only
for reporting).

- Batch norm (Ioffe & Szegedy 2015): a deep ReLU MLP with SGD + momentum at a
  large learning rate, with and without batch norm. The batch_stats collection
  is carried in the engine's TrainState; evaluation uses the running averages,
  compared with normalising by the test set's own statistics.
- Dropout (Srivastava et al. 2014) against the same MLP without it (wider than
  the others: dropout pays off where there is capacity to spare).
- Early stopping (patience in evaluations) on the plain MLP's validation loss.
- Weight decay (an L2 term added to Adam's gradient) picked from a grid by
  k-fold cross-validation on the training set: every (fold, value) pair is one
  member of a single vmapped training run.
- Schedules: constant, step decay (x0.1 at 50 % and 75 %), cosine, and linear
  warm-up + cosine, at one peak rate with SGD + momentum.
- Gradient clipping (Pascanu et al. 2013), by global norm and by value, on a
  vanilla tanh RNN over the 40 time steps, where unclipped SGD stalls.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import FINDING, Claim, at_least, at_most
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.data.sampler import chunk_indices
from dl_course.engine.blocks import train_in_blocks
from dl_course.engine.state import init_train_state
from dl_course.engine.steps import classification_loss, make_train_step
from dl_course.errors import ConfigError
from dl_course.fundamentals import recurrent
from dl_course.fundamentals.tricks import (early_stopping_point, evaluate, fit_classifier,
                                           kfold_splits)
from dl_course.models.mlp import MLP
from dl_course.plots import plt, save_figure

SCHEDULES = ('constant', 'step', 'cosine', 'warmup + cosine')
CLIPPING = ('none', 'global norm', 'value')


def validate(config) -> None:
  for key in ('train.num_steps', 'train.batch_size', 'train.eval_every', 'width', 'dropout_width',
              'deep_depth', 'rnn_hidden', 'rnn_steps', 'patience', 'validation_size'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'folds', 2, 10, integer=True)
  for key in ('bn_learning_rate', 'adam_learning_rate', 'schedule_peak', 'rnn_learning_rate',
              'clip_norm', 'clip_value'):
    check_range(config, key, 0.0, low_open=True)
  check_range(config, 'dropout_rate', 0.0, 0.95)
  check_number_list(config, 'weight_decays', 0.0)
  for key in ('train.num_steps', 'rnn_steps'):
    check_multiple(config, key, 'train.eval_every')


def split(config):
  train, test = data.load('mnist1d', 'train'), data.load('mnist1d', 'test')
  n = len(train.y) - config.validation_size
  if n < config.train.batch_size:
    raise ConfigError(
        'validation_size', config.validation_size,
        f'at most {len(train.y) - config.train.batch_size} (leaves a batch to train on)')
  return ((train.x[:n], train.y[:n]), (train.x[n:], train.y[n:]), (test.x, test.y))


def fit(config, model, tx, train, eval_sets, early_stopping=None):
  return fit_classifier(model, tx, *train, seed=config.seed, num_steps=config.train.num_steps,
                        batch_size=config.train.batch_size, eval_every=config.train.eval_every,
                        eval_sets=eval_sets, early_stopping=early_stopping)


def batch_norm_part(config, train, test, log) -> dict:
  out = {}
  for name, batch_norm in (('plain', False), ('batch norm', True)):
    model = MLP(10, (config.width,) * config.deep_depth, batch_norm=batch_norm)
    state, history, _ = fit(config, model, optax.sgd(config.bn_learning_rate, 0.9), train,
                            {'train': train, 'test': test})
    out[name] = history
    log({'step': history['step'][-1],
         'part': 'batch_norm', 'model': name, 'train_accuracy': history['train/accuracy'][-1],
         'test_accuracy': history['test/accuracy'][-1]})
    if batch_norm:
      # The test set normalised by its own statistics, running averages left alone.
      logits = model.apply({'params': state.params, **state.model_state}, jnp.asarray(test[0]),
                           train=True, mutable=['batch_stats'])[0]
      out['test accuracy, batch statistics'] = float(
          jnp.mean(jnp.argmax(logits, -1) == jnp.asarray(test[1])))
  return out


def regularisation_part(config, train, validation, test, log) -> dict:
  out = {}
  tx = optax.adam(config.adam_learning_rate)
  for name, rate in (('plain', 0.0), ('dropout', config.dropout_rate)):
    model = MLP(10, (config.dropout_width,) * 2, dropout_rate=rate)
    _, history, kept = fit(config, model, tx, train,
                           {'train': train, 'validation': validation, 'test': test},
                           early_stopping=('validation', config.patience))
    out[name] = history
    if name == 'plain':
      best, stop = early_stopping_point(history['validation/loss'], config.patience)
      test_at_kept = {k: float(v) for k, v in evaluate(model, kept, *map(jnp.asarray, test)).items()}
      out['early stopping'] = {'best_step': history['step'][best],
                               'stop_step': history['step'][stop], **test_at_kept}
    log({'step': history['step'][-1],
         'part': 'regularisation', 'model': name, 'train_accuracy': history['train/accuracy'][-1],
         'test_accuracy': history['test/accuracy'][-1], 'test_loss': history['test/loss'][-1]})
  log({'step': out['early stopping']['stop_step'], 'part': 'early_stopping',
       **out['early stopping']})
  return out


def cross_validation_part(config, train, test, log) -> dict:
  """Every (weight decay, fold) pair trained at once under vmap: validation
  accuracy per pair; then each value refitted on the whole training set."""
  x, y = map(jnp.asarray, train)
  model = MLP(10, (config.width, config.width))
  train_folds, val_folds = kfold_splits(len(y), config.folds, config.seed)
  positions = chunk_indices(config.seed, 0, config.train.num_steps, train_folds.shape[1],
                            config.train.batch_size)
  batches_FKB = jnp.asarray(train_folds[:, positions])

  def train_and_score(weight_decay, batch_indices_KB, eval_x, eval_y):
    tx = optax.chain(optax.add_decayed_weights(weight_decay),
                     optax.adam(config.adam_learning_rate))
    state = init_train_state(model, tx, x[:2], jax.random.key(config.seed))
    step = make_train_step(model.apply, tx, classification_loss)
    state, _ = jax.lax.scan(lambda s, idx: step(s, {'x': x[idx], 'y': y[idx]}), state,
                            batch_indices_KB)
    return evaluate(model, state, eval_x, eval_y)['accuracy']

  decays = jnp.asarray(config.weight_decays, jnp.float32)
  over_folds = jax.vmap(train_and_score, in_axes=(None, 0, 0, 0))
  cv = jax.jit(jax.vmap(over_folds, in_axes=(0, None, None, None)))(
      decays, batches_FKB, x[val_folds], y[val_folds])
  all_positions = jnp.asarray(chunk_indices(config.seed, 0, config.train.num_steps, len(y),
                                            config.train.batch_size))
  test_x, test_y = map(jnp.asarray, test)
  refit = jax.jit(jax.vmap(train_and_score, in_axes=(0, None, None, None)))(
      decays, all_positions, test_x, test_y)
  cv_mean = np.asarray(cv).mean(1)
  chosen = int(np.argmax(cv_mean))
  for i, decay in enumerate(config.weight_decays):
    log({'step': config.train.num_steps,
         'part': 'cross_validation', 'weight_decay': decay, 'cv_accuracy': float(cv_mean[i]),
         'cv_fold_accuracy': np.asarray(cv[i]).tolist(), 'test_accuracy': float(refit[i])})
  return {'weight_decays': list(config.weight_decays), 'cv_accuracy': cv_mean.tolist(),
          'cv_std': np.asarray(cv).std(1).tolist(), 'test_accuracy': np.asarray(refit).tolist(),
          'chosen': chosen}


def schedule(name: str, peak: float, num_steps: int) -> optax.Schedule:
  if name == 'constant':
    return optax.constant_schedule(peak)
  if name == 'step':
    return optax.piecewise_constant_schedule(peak, {num_steps // 2: 0.1, 3 * num_steps // 4: 0.1})
  if name == 'cosine':
    return optax.cosine_decay_schedule(peak, num_steps)
  return optax.warmup_cosine_decay_schedule(0.0, peak, num_steps // 10, num_steps)


def schedule_part(config, train, test, log) -> dict:
  out = {}
  model = MLP(10, (config.width, config.width))
  for name in SCHEDULES:
    lr = schedule(name, config.schedule_peak, config.train.num_steps)
    _, history, _ = fit(config, model, optax.sgd(lr, 0.9), train, {'test': test})
    out[name] = {**history, 'learning_rate': [float(lr(s)) for s in history['step']]}
    log({'step': history['step'][-1],
         'part': 'schedules', 'schedule': name, 'final_train_loss': history['train_loss'][-1],
         'test_accuracy': history['test/accuracy'][-1]})
  return out


def clipping_part(config, train, test, log) -> dict:
  """A vanilla tanh RNN reads the signal one time step at a time; its last
  hidden state feeds a linear readout."""
  hidden = config.rnn_hidden
  x, y = jnp.asarray(train[0])[..., None], jnp.asarray(train[1])
  test_x, test_y = jnp.asarray(test[0])[..., None], jnp.asarray(test[1])

  def init(key):
    cell_key, readout_key = jax.random.split(key)
    return {'cell': recurrent.init_cell('rnn', cell_key, 1, hidden),
            'readout': jax.random.normal(readout_key, (hidden, 10)) / np.sqrt(hidden)}

  def logits(params, xb):
    h, _ = recurrent.unroll('rnn', params['cell'], recurrent.zero_carry('rnn', len(xb), hidden), xb)
    return h @ params['readout']

  def loss(params, xb, yb):
    return optax.softmax_cross_entropy_with_integer_labels(logits(params, xb), yb).mean()

  def test_accuracy(params):
    return jnp.mean(jnp.argmax(logits(params, test_x), -1) == test_y)

  clips = {'none': None, 'global norm': optax.clip_by_global_norm(config.clip_norm),
           'value': optax.clip(config.clip_value)}
  out = {}
  for name, clip in clips.items():
    sgd = optax.sgd(config.rnn_learning_rate, 0.9)
    tx = sgd if clip is None else optax.chain(clip, sgd)
    _, losses, accuracies = train_in_blocks(
        loss, test_accuracy, init(jax.random.key(config.seed)), tx, x, y, seed=config.seed,
        num_steps=config.rnn_steps, batch_size=config.train.batch_size,
        eval_every=config.train.eval_every)
    out[name] = {'train_loss': losses.tolist(), 'test_accuracy': accuracies.tolist()}
    log({'step': config.rnn_steps,
         'part': 'clipping', 'clip': name, 'final_train_loss': float(losses[-1]),
         'test_accuracy': float(accuracies[-1])})
  return out


def run(config, log) -> dict:
  train, validation, test = split(config)
  return {'eval_every': config.train.eval_every,
          'batch_norm': batch_norm_part(config, train, test, log),
          'regularisation': regularisation_part(config, train, validation, test, log),
          'cross_validation': cross_validation_part(config, train, test, log),
          'schedules': schedule_part(config, train, test, log),
          'clipping': clipping_part(config, train, test, log)}


def claims(config, summary) -> list[Claim]:
  bn, reg = summary['batch_norm'], summary['regularisation']
  cv, sched, clip = summary['cross_validation'], summary['schedules'], summary['clipping']
  plain_bn, with_bn = bn['plain']['train/accuracy'][-1], bn['batch norm']['train/accuracy'][-1]
  bn_test = bn['batch norm']['test/accuracy'][-1]
  gap = lambda h: h['train/accuracy'][-1] - h['test/accuracy'][-1]
  stopped = reg['early stopping']
  chosen = cv['chosen']
  constant_loss = sched['constant']['train_loss'][-1]
  decayed_loss = max(sched['step']['train_loss'][-1], sched['cosine']['train_loss'][-1])
  clipped, unclipped = clip['global norm']['train_loss'][-1], clip['none']['train_loss'][-1]
  c = config.claim
  return [
      Claim(f'{config.deep_depth}-layer ReLU MLP, SGD at lr {config.bn_learning_rate:g}: '
            'training accuracy without and with batch norm',
            f'plain <= {100 * c.max_plain_deep_accuracy:g} %, '
            f'batch norm >= {100 * c.min_batch_norm_accuracy:g} %',
            f'{100 * plain_bn:.1f} % and {100 * with_bn:.1f} %',
            bool(plain_bn <= c.max_plain_deep_accuracy and with_bn >= c.min_batch_norm_accuracy),
            kind=FINDING),
      at_most('batch norm: |test accuracy with running averages - with the test set\'s own '
              'statistics| (eval mode works)',
              abs(bn_test - bn['test accuracy, batch statistics']), c.max_eval_mode_gap,
              scale=100, unit=' pts', kind=FINDING),
      at_least(f'dropout {config.dropout_rate:g}: test accuracy gain over the plain MLP',
               reg['dropout']['test/accuracy'][-1] - reg['plain']['test/accuracy'][-1],
               c.min_dropout_gain, scale=100, unit=' pts', kind=FINDING),
      Claim('dropout: train - test accuracy gap, plain vs dropout', 'dropout smaller',
            f'{100 * gap(reg["plain"]):.1f} vs {100 * gap(reg["dropout"]):.1f} pts',
            bool(gap(reg['dropout']) < gap(reg['plain'])), kind=FINDING),
      at_most(f'early stopping (patience {config.patience}, stopped at step '
              f'{stopped["stop_step"]}): test loss / the overfitted final test loss',
              stopped['loss'] / reg['plain']['test/loss'][-1], c.max_early_stop_loss_ratio,
              digits=2, kind=FINDING),
      Claim(f'{config.folds}-fold CV picks weight decay {cv["weight_decays"][chosen]:g}: its test '
            'accuracy vs the best on the grid', f'within {100 * c.max_cv_regret:g} pts of the best',
            f'{100 * cv["test_accuracy"][chosen]:.1f} vs {100 * max(cv["test_accuracy"]):.1f} %',
            bool(cv['test_accuracy'][chosen] >= max(cv['test_accuracy']) - c.max_cv_regret),
            kind=FINDING),
      at_most(f'SGD at peak lr {config.schedule_peak:g}: final training loss, worse of step and '
              'cosine decay / constant', decayed_loss / constant_loss, c.max_decay_loss_ratio,
              digits=3, kind=FINDING),
      at_most(f'vanilla RNN, SGD lr {config.rnn_learning_rate:g}: final training loss clipped '
              f'(global norm {config.clip_norm:g}) / unclipped', clipped / unclipped,
              c.max_clipped_loss_ratio, digits=2, kind=FINDING),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(2, 3, figsize=(16, 9))
  bn, reg = summary['batch_norm'], summary['regularisation']
  for name in ('plain', 'batch norm'):
    axes[0, 0].plot(bn[name]['step'], bn[name]['train_loss'], label=name)
  axes[0, 0].set(title='deep MLP, large learning rate: training loss', yscale='log', xlabel='step')
  for name in ('plain', 'dropout'):
    axes[0, 1].plot(reg[name]['step'], reg[name]['train/accuracy'], '--', label=f'{name}, train')
    axes[0, 1].plot(reg[name]['step'], reg[name]['test/accuracy'], label=f'{name}, test')
  axes[0, 1].set(title='dropout: accuracy', xlabel='step')
  plain = reg['plain']
  axes[0, 2].plot(plain['step'], plain['validation/loss'], label='validation loss')
  axes[0, 2].plot(plain['step'], plain['test/loss'], label='test loss')
  axes[0, 2].axvline(reg['early stopping']['stop_step'], color='k', ls=':', label='stopped')
  axes[0, 2].axvline(reg['early stopping']['best_step'], color='g', ls=':', label='kept')
  axes[0, 2].set(title='early stopping (plain MLP)', xlabel='step')
  cv = summary['cross_validation']
  decays = [max(d, 1e-6) for d in cv['weight_decays']]
  axes[1, 0].errorbar(decays, cv['cv_accuracy'], cv['cv_std'], marker='o', label='CV accuracy')
  axes[1, 0].plot(decays, cv['test_accuracy'], 's-', label='test accuracy (refit)')
  axes[1, 0].set(xscale='log', title='weight decay by k-fold CV (0 drawn at 1e-6)',
                 xlabel='weight decay')
  for name, history in summary['schedules'].items():
    axes[1, 1].plot(history['step'], history['train_loss'], label=name)
  axes[1, 1].set(title='learning-rate schedules: training loss', yscale='log', xlabel='step')
  every = summary['eval_every']
  for name, history in summary['clipping'].items():
    steps = every * np.arange(1, len(history['train_loss']) + 1)
    axes[1, 2].plot(steps, history['train_loss'], label=f'clip: {name}')
  axes[1, 2].set(title='vanilla RNN: training loss', xlabel='step')
  for ax in axes.flat:
    ax.legend(fontsize=8)
  save_figure(fig, workdir / 'tricks.png')
