"""Attention and transformers on date translation ('24 nov 2026' -> '2026-11-24').

Three models learn the same task from the same batches: a GRU encoder-decoder
with additive (Bahdanau) attention, the same with dot-product attention, and
a small transformer. Each is scored by greedy decoding on held-out dates
(exact-match sequence accuracy and per-character accuracy); the figure shows
each model's attention over the input characters while it writes the output.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.claims import FINDING, Claim, at_least
from dl_course.config import check_multiple, check_range
from dl_course.errors import ConfigError
from dl_course.fundamentals import attention, dates
from dl_course.engine.blocks import block_ends, train_args, train_in_blocks
from dl_course.plots import plt, save_figure

MODELS = ('additive', 'dot', 'transformer')


def validate(config) -> None:
  for key in ('train_examples', 'test_examples', 'hidden', 'num_heads', 'num_layers',
              'train.num_steps', 'train.batch_size', 'train.eval_every'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_multiple(config, 'train.num_steps', 'train.eval_every')
  if config.hidden % config.num_heads:
    raise ConfigError('num_heads', config.num_heads, f'a divisor of hidden={config.hidden}')
  unknown = sorted(set(config.models) - set(MODELS))
  if unknown or not config.models:
    raise ConfigError('models', list(config.models), 'a non-empty list from ' + ', '.join(MODELS))


def build(name: str, config):
  if name == 'transformer':
    return attention.Transformer(dates.INPUT_VOCAB, dates.OUTPUT_VOCAB, config.hidden,
                                 config.num_heads, config.num_layers)
  return attention.RNNSeq2Seq(dates.INPUT_VOCAB, dates.OUTPUT_VOCAB, config.hidden, score=name)


def train_model(name: str, config, train, test, log) -> dict:
  model = build(name, config)
  x_test, y_test = jnp.asarray(test[0]), jnp.asarray(test[1])
  params = model.init(jax.random.key(config.seed), x_test[:2],
                      dates.decoder_inputs(y_test[:2]))['params']
  tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(
      optax.cosine_decay_schedule(config.optimizer.learning_rate, config.train.num_steps)))

  def loss(params, xb, yb):
    logits, _ = model.apply({'params': params}, xb, dates.decoder_inputs(yb))
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

  def greedy(params, inputs):
    return model.apply({'params': params}, inputs, dates.OUTPUT_LENGTH, dates.BOS,
                       method='greedy')

  def sequence_accuracy(params):
    tokens, _ = greedy(params, x_test)
    return jnp.mean(jnp.all(tokens == y_test, axis=-1))

  def record(step, value, accuracy):
    log({'step': step, 'model': name, 'train/loss': value, 'test/sequence_accuracy': accuracy})

  params, losses, accuracies = train_in_blocks(
      loss, sequence_accuracy, params, tx, train[0], train[1], **train_args(config), log=record)
  tokens, weights = jax.jit(greedy)(params, x_test)
  tokens = np.asarray(tokens)
  return {'train_loss': losses.tolist(), 'sequence_accuracy': accuracies.tolist(),
          'character_accuracy': float(np.mean(tokens == test[1])),
          'examples': [{'input': test[2][i], 'output': dates.decode_output(tokens[i]),
                        'target': dates.decode_output(test[1][i]),
                        'attention': np.asarray(weights[i]).tolist()}
                       for i in range(config.num_figure_examples)]}


def run(config, log) -> dict:
  train = dates.make_split('train', config.train_examples, config.seed)
  test = dates.make_split('test', config.test_examples, config.seed)
  return {'steps': block_ends(config.train.num_steps, config.train.eval_every),
          'models': {name: train_model(name, config, train, test, log)
                     for name in config.models}}


NAMES = {'additive': 'GRU encoder-decoder, additive attention',
         'dot': 'GRU encoder-decoder, dot-product attention',
         'transformer': 'transformer'}


def claims(config, summary) -> list[Claim]:
  return [at_least(f'dates -> ISO 8601, {NAMES[name]}: exact-match accuracy of greedy '
                   f'decoding on held-out dates', result['sequence_accuracy'][-1],
                   config.target_accuracy, unit=' %', scale=100, kind=FINDING)
          for name, result in summary['models'].items()]


def plot(summary, workdir: pathlib.Path) -> None:
  models = summary['models']
  fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.2), squeeze=False)
  for ax, (name, result) in zip(axes[0], models.items()):
    example = result['examples'][0]
    weights = np.asarray(example['attention'])[:, :len(example['input'])]
    ax.imshow(weights, cmap='viridis', aspect='auto')
    ax.set_xticks(range(len(example['input'])), list(example['input']), fontsize=7)
    ax.set_yticks(range(len(example['output'])), list(example['output']), fontsize=8)
    ax.set_title(f'{name}: "{example["input"]}"', fontsize=9)
  fig.suptitle('attention over the input while writing each output character '
               '(transformer: last layer, mean over heads)')
  save_figure(fig, workdir / 'attention_maps.png')

  fig, ax = plt.subplots(figsize=(6, 4))
  for name, result in models.items():
    ax.plot(summary['steps'], result['sequence_accuracy'], label=NAMES[name])
  ax.set_xlabel('step')
  ax.set_ylabel('held-out exact-match accuracy (greedy)')
  ax.legend()
  save_figure(fig, workdir / 'attention_accuracy.png')
