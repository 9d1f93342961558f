"""Recurrent networks by hand (dl_course.fundamentals.recurrent).

1. Vanishing gradients: ‖∂L/∂h_t‖ against t for a loss read from the last of T
   steps, for a vanilla tanh RNN (Flax's default init: orthogonal recurrent
   weights), the same RNN with recurrent weights scaled down and up, a GRU and
   an LSTM. The vanilla RNN's gradient decays geometrically with distance;
   the gates' additive paths carry it much further.
2. Sequence classification on MNIST-1D (40 steps, one value each) with the
   hand-written cell in the MNIST-1D paper's layout: bidirectional, every
   step's state into a linear head; Adam with cosine decay.

At initialisation the gates sit at σ(0) = ½, so a GRU's or LSTM's state also
halves its memory every step; what the gates add is that the reach is set by a
gate the network can learn to open: with the keep gate's bias at b (the LSTM's
forget gate, the GRU's update gate) the gradient shrinks only by about σ(b)
per step (Gers et al. 2000; Jozefowicz et al. 2015 recommend b = 1).
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import FINDING, Claim, at_least
from dl_course.config import check_choice, check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.fundamentals import recurrent
from dl_course.engine.blocks import block_ends, train_args, train_in_blocks
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('gradient_steps', 'gradient_batch', 'gradient_hidden', 'hidden_size',
              'train.num_steps', 'train.batch_size', 'train.eval_every'):
    check_range(config, key, 1, integer=True)
  check_number_list(config, 'recurrent_scales', 0, low_open=True)
  if 1.0 not in config.recurrent_scales:
    raise ConfigError('recurrent_scales', config.recurrent_scales, 'a list that includes 1.0')
  check_choice(config, 'classifier_cell', recurrent.CELLS)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'gate_bias', 0)
  check_multiple(config, 'train.num_steps', 'train.eval_every')


def gradient_profiles(config) -> dict:
  key = jax.random.key(config.seed)
  xs = jax.random.normal(jax.random.fold_in(key, 1),
                         (config.gradient_batch, config.gradient_steps, 1))
  readout_w = jax.random.normal(jax.random.fold_in(key, 2), (config.gradient_hidden,))
  readout = lambda h: jnp.mean(h @ readout_w)
  profiles = {}
  runs = ([('rnn', scale, 0.0) for scale in config.recurrent_scales]
          + [(kind, 1.0, bias) for kind in ('gru', 'lstm') for bias in (0.0, config.gate_bias)])
  for kind, scale, bias in runs:
    params = recurrent.init_cell(kind, jax.random.fold_in(key, 3), 1, config.gradient_hidden)
    if kind == 'rnn':
      params = {**params, 'h': {'kernel': scale * params['h']['kernel']}}
      name = f'rnn, recurrent x{scale:g}'
    else:
      params = recurrent.with_gate_bias(kind, params, bias)
      name = f'{kind}, gate bias {bias:g}'
    norms = recurrent.hidden_state_gradients(kind, params, xs, readout, config.gradient_hidden)
    profiles[name] = np.asarray(norms).tolist()
  return profiles


def bidirectional_classifier(kind: str, hidden: int, num_classes: int, steps: int):
  """(init(key), apply(params, x_BT) -> logits) for the paper's GRU layout."""
  def init(key):
    k_forward, k_backward, k_head = jax.random.split(key, 3)
    head_in = 2 * hidden * steps
    return {'forward': recurrent.init_cell(kind, k_forward, 1, hidden),
            'backward': recurrent.init_cell(kind, k_backward, 1, hidden),
            'head': {'kernel': jax.random.normal(k_head, (head_in, num_classes))
                     / np.sqrt(head_in), 'bias': jnp.zeros(num_classes)}}

  def apply(params, x_BT):
    xs = x_BT[..., None]
    carry = recurrent.zero_carry(kind, x_BT.shape[0], hidden)
    _, h_forward = recurrent.unroll(kind, params['forward'], carry, xs)
    _, h_backward = recurrent.unroll(kind, params['backward'], carry, xs, reverse=True)
    h = jnp.concatenate([h_forward, h_backward], -1).reshape(x_BT.shape[0], -1)
    return h @ params['head']['kernel'] + params['head']['bias']

  return init, apply


def classify_mnist1d(config, log) -> dict:
  train, test = data.load('mnist1d', 'train'), data.load('mnist1d', 'test')
  steps = train.x.shape[1]
  init, apply = bidirectional_classifier(config.classifier_cell, config.hidden_size,
                                         train.info.num_classes, steps)
  tx = optax.adam(
      optax.cosine_decay_schedule(config.optimizer.learning_rate, config.train.num_steps))

  def loss(params, xb, yb):
    return optax.softmax_cross_entropy_with_integer_labels(apply(params, xb), yb).mean()

  def test_accuracy(params):
    return jnp.mean(apply(params, jnp.asarray(test.x)).argmax(-1) == test.y)

  def record(step, value, accuracy):
    log({'step': step, 'train/loss': value, 'test/accuracy': accuracy})

  _, losses, accuracies = train_in_blocks(
      loss, test_accuracy, init(jax.random.key(config.seed)), tx, train.x, train.y,
      **train_args(config), log=record)
  return {'steps': block_ends(config.train.num_steps, config.train.eval_every),
          'train_loss': losses.tolist(), 'test_accuracy': accuracies.tolist()}


def run(config, log) -> dict:
  return {'gradient_norms': gradient_profiles(config),
          'mnist1d': classify_mnist1d(config, log)}


def reach(profile: list[float]) -> float:
  """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: the share of the gradient that reaches the first step."""
  return profile[0] / profile[-1]


def claims(config, summary) -> list[Claim]:
  norms = summary['gradient_norms']
  vanilla = reach(norms['rnn, recurrent x1'])
  T, b = config.gradient_steps, config.gate_bias
  gated = {kind: reach(norms[f'{kind}, gate bias {b:g}']) for kind in ('gru', 'lstm')}
  c = config.claim
  out = [Claim(f'vanilla tanh RNN (Flax init): gradient reaching step 1 of {T}, relative to '
               f'step {T}', f'<= {c.max_vanilla_reach:g} (vanishes)', f'{vanilla:.1e}',
               bool(vanilla <= c.max_vanilla_reach), kind=FINDING)]
  if 2.0 in config.recurrent_scales:
    exploding = reach(norms['rnn, recurrent x2'])
    out.append(Claim('vanilla RNN with recurrent weights x2: the same ratio',
                     f'>= {c.min_exploding_reach:g} (explodes)', f'{exploding:.1e}',
                     bool(exploding >= c.min_exploding_reach), kind=FINDING))
  out += [
      Claim(f'GRU and LSTM with keep-gate bias {b:g}: gradient reaching step 1, and vs the '
            'vanilla RNN',
            f'>= {c.min_gated_reach:g} and >= {c.min_gated_over_vanilla:g}x vanilla',
            ', '.join(f'{k.upper()} {v:.1e} ({v / max(vanilla, 1e-300):.0e}x)'
                      for k, v in gated.items()),
            bool(all(v >= c.min_gated_reach and v >= c.min_gated_over_vanilla * vanilla
                     for v in gated.values())), kind=FINDING),
      at_least(f'hand-written bidirectional {config.classifier_cell.upper()} '
               f'({config.hidden_size} units) on MNIST-1D, test accuracy',
               summary['mnist1d']['test_accuracy'][-1], config.target_accuracy, unit=' %',
               scale=100, kind=FINDING,
               published='GRU 91 % (Greydanus & Kobak 2024, table 1; 6 units, ours 12)'),
  ]
  return out


def plot(summary, workdir: pathlib.Path) -> None:
  fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
  for name, profile in summary['gradient_norms'].items():
    left.semilogy(np.arange(1, len(profile) + 1), profile, label=name)
  left.set_xlabel('time step t (the loss reads the last)')
  left.set_ylabel('‖∂L/∂h_t‖')
  left.set_title('how far back the gradient reaches')
  left.legend(fontsize=8)
  mnist = summary['mnist1d']
  right.plot(mnist['steps'], mnist['test_accuracy'], label='test accuracy')
  right.plot(mnist['steps'], mnist['train_loss'], label='training loss')
  right.axhline(0.91, color='k', ls='--', lw=1, label='paper GRU 91 %')
  right.set_xlabel('step')
  right.set_title('hand-written bidirectional cell on MNIST-1D')
  right.legend()
  save_figure(fig, workdir / 'recurrent.png')
