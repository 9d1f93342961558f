"""A DCGAN on the 8x8 digits (1,437 training images), judged by a classifier
trained on the real digits.

Generator and discriminator are DCGAN's convolutional pair at small scale
(`gan.DCGenerator`, `gan.DCDiscriminator`); the seeds train side by side under
vmap, one `lax.scan` per logging block. Each step draws its real batch and
noise from fold_in(key, step).

Judged on `num_samples` generated digits per seed, with an MLP classifier
trained on the real training digits (its penultimate layer gives features):
  classes covered  classes holding at least a third of their fair share (1/10)
                   of the samples; a collapsed GAN draws few classes;
  confidence       the classifier's mean max-probability on the samples;
  Fréchet distance between Gaussians fitted to the features of the samples and
                   of the real test digits (FID's formula, Heusel et al. 2017,
                   on our small classifier's features, so not comparable with
                   published FIDs), beside two references: the real training
                   digits (the floor at this sample size) and a model that draws
                   every pixel independently from its marginal (no structure).
The non-saturating generator loss is claimed; with `losses` also holding
'minimax', the saturating loss runs beside it with the same seeds.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import FINDING, Claim, at_least
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.engine.blocks import train_in_blocks
from dl_course.engine.state import init_each
from dl_course.errors import ConfigError
from dl_course.generative import gan
from dl_course.generative.images import image_grid, independent_pixel_samples
from dl_course.generative.sample_quality import judge_samples
from dl_course.models.mlp import FeatureClassifier
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('num_seeds', 'train.num_steps', 'train.batch_size', 'noise_dim', 'num_samples',
              'train.eval_every', 'judge_steps'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'num_samples', 100, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'beta1', 0.0, 0.999)
  check_number_list(config, 'generator_channels', 1, integer=True)
  check_number_list(config, 'discriminator_channels', 1, integer=True)
  if len(config.generator_channels) != 2:
    raise ConfigError('generator_channels', config.generator_channels,
                      'two widths (4x4 then 8x8 maps)')
  if not config.losses or any(kind not in gan.GENERATOR_LOSSES for kind in config.losses):
    raise ConfigError('losses', config.losses, 'a list from ' + ', '.join(gan.GENERATOR_LOSSES))
  if config.losses[0] != 'non_saturating':
    raise ConfigError('losses', config.losses, "a list starting with 'non_saturating' "
                      '(the claimed one)')
  check_multiple(config, 'train.num_steps', 'train.eval_every')


def train_judge(config, train, test):
  judge = FeatureClassifier()
  x, y = jnp.asarray(train.x), jnp.asarray(train.y)
  params = judge.init(jax.random.fold_in(jax.random.key(config.seed), 7), x[:1])['params']

  def loss(params, xb, yb):
    logits = judge.apply({'params': params}, xb)
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

  def accuracy(params):
    return jnp.mean(jnp.argmax(judge.apply({'params': params}, test.x), -1) == test.y)

  params, _, accuracies = train_in_blocks(loss, accuracy, params, optax.adam(1e-3), x, y,
                                          seed=config.seed, num_steps=config.judge_steps,
                                          batch_size=64, eval_every=config.judge_steps)
  return judge, params, float(accuracies[-1])


def train_gans(config, kind: str, real_x, progress):
  """All seeds for one generator loss; returns (generator params [S, ...], losses [S, T, 2]).
  Block ends may be checkpointed (stage gan_<kind>, engine/progress.py), and a
  rerun continues from the latest one."""
  to_tanh = 2.0 * real_x - 1.0
  draw = lambda key, n: to_tanh[jax.random.randint(key, (n,), 0, len(to_tanh))]
  model = gan.make_gan(draw, gan.DCGenerator(real_x.shape[1:], tuple(config.generator_channels)),
                       gan.DCDiscriminator(tuple(config.discriminator_channels)),
                       data_shape=real_x.shape[1:], noise_dim=config.noise_dim,
                       generator_loss_kind=kind, batch_size=config.train.batch_size,
                       learning_rate=config.optimizer.learning_rate, beta1=config.beta1)
  keys = jax.random.split(jax.random.key(config.seed), config.num_seeds)
  carry = jax.jit(lambda keys: init_each(model.init, keys))(keys)
  seeds_step = jax.vmap(model.step, in_axes=(0, None))
  block = jax.jit(lambda carry, steps: jax.lax.scan(seeds_step, carry, steps))
  checkpoints = progress.checkpoints(f'gan_{kind}')
  losses, start = [], 0
  if checkpoints is not None:
    restored, start, kept = checkpoints.restore(_named(carry))
    carry = _unnamed(restored)
    losses = list(jnp.asarray(kept['losses'], jnp.float32)) if kept else losses
  every = config.train.eval_every
  for first in range(start, config.train.num_steps, every):
    carry, values = block(carry, jnp.arange(first, first + every, dtype=jnp.int32))
    losses.extend(values)  # [every, S, 2]
    mean = np.asarray(values).mean(0)  # [S, 2]
    t = first + every
    progress.log({'loss': kind, 'step': t, 'discriminator_loss': mean[:, 0].tolist(),
                  'generator_loss': mean[:, 1].tolist()})
    if checkpoints is not None:
      so_far = lambda: {'losses': np.asarray(jnp.stack(losses)).tolist()}
      checkpoints.chunk_done(t, _named(carry), so_far, last=t == config.train.num_steps)
  return carry[0], model, np.asarray(jnp.stack(losses, 1))


def _named(carry) -> dict:
  """The GAN's carry as a stage state: the generator's params under `params`."""
  g_params, d_params, g_state, d_state, loop_key = carry
  return {'params': g_params, 'discriminator_params': d_params,
          'opt_state': {'generator': g_state, 'discriminator': d_state}, 'key': loop_key}


def _unnamed(state: dict):
  return (state['params'], state['discriminator_params'], state['opt_state']['generator'],
          state['opt_state']['discriminator'], state['key'])


def stage_model(config, stage: str):
  """The generator (params [seed, ...]) of a stage gan_<loss>, for load_run."""
  del stage
  shape = data.load('digits', 'test').x.shape[1:]
  return gan.DCGenerator(shape, tuple(config.generator_channels))


def run(config, progress) -> dict:
  train, test = data.load('digits', 'train'), data.load('digits', 'test')
  judge, judge_params, judge_accuracy = train_judge(config, train, test)
  test_features = judge.apply({'params': judge_params}, test.x, method=FeatureClassifier.features)
  sample_key = jax.random.fold_in(jax.random.key(config.seed), 1)
  references = {
      'real training digits': judge_samples(judge, judge_params, jnp.asarray(train.x),
                                            test_features),
      'independent pixels': judge_samples(
          judge, judge_params, independent_pixel_samples(jnp.asarray(train.x), sample_key,
                                                  config.num_samples), test_features)}
  progress.log({'step': config.judge_steps, 'judge_test_accuracy': judge_accuracy,
                **{f'{name}/frechet': r['frechet'] for name, r in references.items()}})
  results = {}
  for kind in config.losses:
    g_params, model, losses = train_gans(config, kind, jnp.asarray(train.x), progress)
    per_seed, grids = [], []
    for seed in range(config.num_seeds):
      params = jax.tree.map(lambda leaf: leaf[seed], g_params)
      samples = (model.sample(params, jax.random.fold_in(sample_key, seed), config.num_samples)
                 + 1.0) / 2.0
      judged = judge_samples(judge, judge_params, samples, test_features)
      per_seed.append(judged)
      grids.append(np.round(np.asarray(samples[:100]), 3).tolist())
      progress.log({'step': config.train.num_steps, 'loss': kind, 'seed': seed,
                    **{k: v for k, v in judged.items() if k != 'class_shares'}})
    every = max(1, config.train.num_steps // 200)
    results[kind] = {'per_seed': per_seed, 'samples': grids,
                     'losses': losses[:, ::every].tolist(), 'loss_every': every}
  return {'judge_test_accuracy': judge_accuracy, 'references': references, 'gans': results}


def claims(config, summary) -> list[Claim]:
  seeds = summary['gans']['non_saturating']['per_seed']
  reference = summary['references']['independent pixels']['frechet']
  worst_frechet = max(s['frechet'] for s in seeds)
  fewest = min(s['classes_covered'] for s in seeds)
  n = len(seeds)
  return [
      at_least('judge (MLP on the real digits) test accuracy', summary['judge_test_accuracy'],
               config.claim.min_judge_accuracy, scale=100, unit=' %', kind=FINDING),
      Claim(f'DCGAN (non-saturating) on digits: classes covered, fewest over {n} seeds '
            '(a class counts with >= 1/3 of its fair share)',
            f'>= {config.claim.min_classes} of 10', f'{fewest} of 10',
            bool(fewest >= config.claim.min_classes), kind=FINDING),
      Claim(f'DCGAN: Fréchet distance to the test digits (judge features), worst of {n} seeds, '
            'vs independent pixels', f'<= {config.claim.max_frechet_ratio:g}x independent pixels',
            f'{worst_frechet:.2f} vs {reference:.2f}',
            bool(worst_frechet <= config.claim.max_frechet_ratio * reference), kind=FINDING),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  gans = summary['gans']
  fig, axes = plt.subplots(1, len(gans) + 1, figsize=(5 * (len(gans) + 1), 5))
  for ax, (kind, result) in zip(axes, gans.items()):
    ax.imshow(image_grid(np.asarray(result['samples'][0])[:100], 10), cmap='gray_r', vmin=0,
              vmax=1)
    judged = result['per_seed'][0]
    ax.set_title(f'{kind}, seed 0: {judged["classes_covered"]} classes, '
                 f'FD {judged["frechet"]:.1f}')
    ax.axis('off')
  for kind, result in gans.items():
    losses = np.asarray(result['losses'])  # [S, T, 2]
    steps = result['loss_every'] * np.arange(losses.shape[1])
    axes[-1].plot(steps, losses[0, :, 0], label=f'{kind}: discriminator')
    axes[-1].plot(steps, losses[0, :, 1], label=f'{kind}: generator')
  axes[-1].set(title='losses, seed 0', xlabel='step')
  axes[-1].legend()
  save_figure(fig, workdir / 'dcgan_digits.png')
