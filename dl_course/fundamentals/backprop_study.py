"""Backprop from scratch, three ways side by side: the hand-derived chain rule
in NumPy, central finite differences, and `jax.grad` of the same model.

1. Gradient check (float64, a small net on a few digits): for every activation
   x loss pair, the relative error of the hand-written gradient against finite
   differences and against jax.grad.
2. Training: the NumPy MLP trained with minibatch SGD on digits (8x8), and the
   same model, initial weights and batches trained in JAX with jax.grad. Both
   reach the same test accuracy; their weights agree to float64 round-off.
"""
from __future__ import annotations

import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from dl_course import data
from dl_course.claims import CHECK, FINDING, Claim, at_least, at_most
from dl_course.config import check_choice, check_number_list, check_range
from dl_course.data.sampler import batch_indices
from dl_course.fundamentals import backprop
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  check_choice(config, 'activation', backprop.ACTIVATIONS)
  check_number_list(config, 'hidden_sizes', 1, integer=True)
  check_number_list(config, 'gradcheck_hidden_sizes', 1, integer=True)
  for key in ('train.batch_size', 'train.num_steps', 'gradcheck_examples', 'log_every'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)


def flat_inputs(split) -> tuple[np.ndarray, np.ndarray]:
  return split.x.reshape(len(split), -1).astype(np.float64), split.y.astype(np.int64)


def targets_for(loss: str, labels: np.ndarray, num_classes: int) -> np.ndarray:
  if loss == 'logistic':
    return (labels % 2 == 0).astype(np.float64)  # one neuron: is the digit even?
  if loss == 'mse':
    return np.eye(num_classes)[labels]
  return labels


def gradient_check(config, x, labels, num_classes) -> list[dict]:
  rows = []
  for activation in backprop.ACTIVATIONS:
    for loss in backprop.LOSSES:
      outputs = 1 if loss == 'logistic' else num_classes
      rng = np.random.default_rng([config.seed, len(rows)])
      params = backprop.init_mlp(rng, [x.shape[1], *config.gradcheck_hidden_sizes, outputs])
      y = targets_for(loss, labels, num_classes)
      _, hand = backprop.loss_and_grad(params, x, y, activation, loss)
      numeric = backprop.finite_difference_grad(params, x, y, activation, loss)
      with jax.enable_x64(True):
        auto = jax.grad(backprop.jax_loss)(jax.tree.map(jnp.asarray, params), jnp.asarray(x),
                                           jnp.asarray(y), activation, loss)
        auto = jax.tree.map(np.asarray, auto)
      rows.append({'activation': activation, 'loss': loss,
                   'vs_finite_differences': backprop.relative_error(hand, numeric),
                   'vs_jax_grad': backprop.relative_error(hand, auto)})
  return rows


def train_both(config, train, test, log):
  """NumPy and JAX SGD from the same weights over the same batches."""
  x, y = flat_inputs(train)
  x_test, y_test = flat_inputs(test)
  sizes = [x.shape[1], *config.hidden_sizes, train.info.num_classes]
  numpy_params = backprop.init_mlp(np.random.default_rng([config.seed, 100]), sizes)
  loss_name = 'softmax_cross_entropy'
  curves = {'step': [], 'numpy': [], 'jax': []}
  seconds = {'numpy': 0.0, 'jax': 0.0}
  with jax.enable_x64(True):
    jax_params = jax.tree.map(jnp.asarray, numpy_params)

    @jax.jit
    def jax_step(params, xb, yb):
      value, grads = jax.value_and_grad(backprop.jax_loss)(params, xb, yb, config.activation,
                                                           loss_name)
      return jax.tree.map(lambda p, g: p - config.optimizer.learning_rate * g, params, grads), value

    jax_step(jax_params, jnp.asarray(x[:config.train.batch_size]),
             jnp.asarray(y[:config.train.batch_size]))
    for step in range(config.train.num_steps):
      index = batch_indices(config.seed, step, len(y), config.train.batch_size)
      start = time.perf_counter()
      numpy_loss, grads = backprop.loss_and_grad(numpy_params, x[index], y[index],
                                                 config.activation, loss_name)
      numpy_params = backprop.sgd_step(numpy_params, grads, config.optimizer.learning_rate)
      seconds['numpy'] += time.perf_counter() - start
      start = time.perf_counter()
      jax_params, jax_loss = jax_step(jax_params, jnp.asarray(x[index]), jnp.asarray(y[index]))
      jax_loss = float(jax_loss)
      seconds['jax'] += time.perf_counter() - start
      if step % config.log_every == 0 or step == config.train.num_steps - 1:
        curves['step'].append(step)
        curves['numpy'].append(float(numpy_loss))
        curves['jax'].append(jax_loss)
        log({'step': step, 'train/loss_numpy': float(numpy_loss), 'train/loss_jax': jax_loss})
    jax_params = jax.tree.map(np.asarray, jax_params)

  def accuracy(params):
    logits, _ = backprop.forward(params, x_test, config.activation)
    return float(np.mean(logits.argmax(1) == y_test))

  return {'curves': curves, 'test_accuracy_numpy': accuracy(numpy_params),
          'test_accuracy_jax': accuracy(jax_params),
          'weights_relative_difference': backprop.relative_error(numpy_params, jax_params),
          'seconds_per_step': {k: v / config.train.num_steps for k, v in seconds.items()}}


def run(config, log) -> dict:
  train, test = data.load(config.data.name, 'train'), data.load(config.data.name, 'test')
  x, labels = flat_inputs(train)
  check = gradient_check(config, x[:config.gradcheck_examples],
                         labels[:config.gradcheck_examples], train.info.num_classes)
  for row in check:
    log({'step': 0, 'gradient_check': row})  # at the initial weights, before training
  # An overflowing run shows up as inf / NaN in the logged loss, which the NaN
  # guard reports in one line: NumPy's warnings would only add lines of noise to stderr.
  with np.errstate(over='ignore', invalid='ignore'):
    trained = train_both(config, train, test, log)
  return {'gradient_check': check, **trained}


def claims(config, summary) -> list[Claim]:
  check = summary['gradient_check']
  return [
      at_most('hand-written backprop vs central finite differences (float64, 9 activation x '
              'loss pairs), max relative error', max(r['vs_finite_differences'] for r in check),
              config.claim.max_gradient_error, digits=1, fmt='e', kind=CHECK),
      at_most('hand-written backprop vs jax.grad, max relative error',
              max(r['vs_jax_grad'] for r in check), config.claim.max_gradient_error, digits=1,
              fmt='e', kind=CHECK),
      at_least(f'NumPy MLP {list(config.hidden_sizes)} ({config.activation}) on '
               f'{config.data.name}, test accuracy', summary['test_accuracy_numpy'],
               config.target_accuracy, unit=' %', scale=100, kind=FINDING),
      at_most('NumPy and JAX training from the same weights and batches: weights differ by '
              '(relative)', summary['weights_relative_difference'],
              config.claim.max_training_difference, digits=1, fmt='e', kind=CHECK),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
  check = summary['gradient_check']
  labels = [f'{r["activation"]}\n{r["loss"].replace("softmax_cross_entropy", "softmax CE")}'
            for r in check]
  positions = np.arange(len(check))
  for offset, key, name in ((-0.2, 'vs_finite_differences', 'vs finite differences'),
                            (0.2, 'vs_jax_grad', 'vs jax.grad')):
    left.bar(positions + offset, [max(r[key], 1e-18) for r in check], 0.4, label=name)
  left.set_yscale('log')
  left.axhline(1e-6, color='k', ls='--', lw=1, label='tolerance 1e-6')
  left.set_xticks(positions, labels, fontsize=6)
  left.set_ylabel('relative error of the hand-written gradient')
  left.legend(fontsize=8)
  curves = summary['curves']
  right.plot(curves['step'], curves['numpy'], label='NumPy, hand-written backward')
  right.plot(curves['step'], curves['jax'], '--', label='JAX, jax.grad')
  right.set_xlabel('SGD step')
  right.set_ylabel('minibatch loss')
  right.set_yscale('log')
  right.legend()
  save_figure(fig, workdir / 'backprop.png')
