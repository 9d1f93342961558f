"""Multi-scale flows (Glow- or RealNVP-style) on images, in bits per dimension.

Pixels are integers 0..L-1 (L = 17 for sklearn's digits, 256 for MNIST);
each step's batch is dequantised with fresh uniform noise, (x + u) / L, and
the flow maximises the density of that on [0, 1]^D. Reported is the test
bits/dim of the discrete data, (-log p(x/L + u/L) + D log L) / (D log 2), an
upper bound on the discrete NLL. Two references on the same data:
  uniform             log2(L) bits/dim exactly (8 for MNIST),
  independent pixels  each pixel its own categorical (add-one smoothing)
                      fitted on the training set: no correlations.
A flow that learns the images' structure beats both by a wide margin.
Figures: samples at temperatures 1 and 0.7, and interpolations between test
images along straight lines in latent space.
"""
from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.claims import FINDING, NOT_PUBLISHED, Claim, at_most
from dl_course.config import check_choice, check_multiple, check_range
from dl_course.engine.blocks import train_args, train_in_blocks
from dl_course.generative import flows
from dl_course.generative.images import (PIXEL_LEVELS, image_grid, independent_pixel_bits,
                                         integer_images)
from dl_course.plots import plt, save_figure

def validate(config) -> None:
  check_choice(config, 'data.name', PIXEL_LEVELS)
  check_choice(config, 'style', ('glow', 'realnvp'))
  for key in ('levels', 'steps', 'hidden', 'train.num_steps', 'train.batch_size',
              'train.eval_every', 'num_samples'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'bits_target', 0, low_open=True)
  check_range(config, 'baseline_ratio_target', 0, low_open=True)
  check_multiple(config, 'train.num_steps', 'train.eval_every')


def run(config, progress) -> dict:
  """Training resumes from the workdir's latest checkpoint (engine/progress.py)."""
  levels = PIXEL_LEVELS[config.data.name]
  train, test = integer_images(config.data.name)
  image_shape = train.shape[1:]
  num_dims = int(np.prod(image_shape))
  flow = flows.MultiScaleFlow(tuple(image_shape), config.levels, config.steps, config.hidden,
                              config.style)
  key = jax.random.key(config.seed)
  init_key, noise_key, eval_key, sample_key = jax.random.split(key, 4)
  # ActNorm's data-dependent init sees a dequantised batch of 512 training images.
  variables = flow.init(init_key, flows.dequantise(init_key, jnp.asarray(train[:512]), levels))
  constants = {k: v for k, v in variables.items() if k != 'params'}

  def bits(params, images, noise):
    log_density = flows.log_prob(flow, {**constants, 'params': params},
                                 flows.dequantise(noise, images, levels))
    return flows.bits_per_dim(log_density, num_dims, levels)

  def loss(params, images, labels, step_key, step):
    del labels, step
    return bits(params, images, step_key).mean()

  test_images = jnp.asarray(test)

  def test_bits(params):  # the curve on the first 500 test images; the final figure on all
    return bits(params, test_images[:500], eval_key).mean()

  def record(step, train_bits, test_value):
    progress.log({'step': step, 'train/bits_per_dim': train_bits, 'test/bits_per_dim': test_value})

  tx = optax.chain(optax.clip_by_global_norm(50.0),
                   optax.adam(optax.warmup_cosine_decay_schedule(
                       0.0, config.optimizer.learning_rate, min(200, config.train.num_steps // 10),
                       config.train.num_steps)))
  params, train_curve, test_curve = train_in_blocks(
      loss, test_bits, variables['params'], tx, train, np.zeros(len(train)), **train_args(config),
      log=record, key=noise_key,
      metric_names=('train/bits_per_dim', 'test/bits_per_dim'),
      checkpoints=progress.checkpoints('flow'))
  variables = {**constants, 'params': params}
  final_test_bits = float(jax.jit(lambda p: bits(p, test_images, eval_key).mean())(params))

  samples = {}
  for temperature in (1.0, 0.7):
    drawn = flows.sample(flow, variables, sample_key, config.num_samples, num_dims, temperature)
    samples[str(temperature)] = np.round(np.clip(np.asarray(drawn), 0, 1), 3).tolist()
  interpolations = interpolate(flow, variables, test_images[:8], levels, eval_key)
  return {'dataset': config.data.name, 'levels': levels, 'image_shape': list(image_shape),
          'test_bits_per_dim': final_test_bits, 'train_bits_per_dim': float(train_curve[-1]),
          'uniform_bits_per_dim': math.log2(levels),
          'independent_pixel_bits_per_dim': independent_pixel_bits(train, test, levels),
          'curve': {'train': train_curve.tolist(), 'test': test_curve.tolist()},
          'samples': samples, 'interpolations': interpolations}


def interpolate(flow, variables, images, levels: int, key, points: int = 8) -> list:
  """Rows from image 2i to image 2i+1 along a straight line in latent space."""
  z, _ = flow.apply(variables, flows.dequantise(key, images, levels))
  start, end = z[0::2], z[1::2]
  weights = jnp.linspace(0, 1, points)[None, :, None]
  path = start[:, None] * (1 - weights) + end[:, None] * weights
  decoded, _ = flow.apply(variables, path.reshape(-1, z.shape[-1]), inverse=True)
  decoded = np.clip(np.asarray(decoded), 0, 1).reshape(len(start), points, *images.shape[1:])
  return np.round(decoded, 3).tolist()


def claims(config, summary) -> list[Claim]:
  ours = summary['test_bits_per_dim']
  independent = summary['independent_pixel_bits_per_dim']
  published = {'mnist5k': '1.05, Glow on full MNIST (Grathwohl et al. 2019, table 2)',
               'digits': NOT_PUBLISHED}[summary['dataset']]
  return [
      at_most(f'{config.style} flow, {summary["dataset"]}: test bits/dim', ours,
              config.bits_target, digits=3, kind=FINDING, published=published),
      Claim(f'{config.style} flow bits/dim / independent pixels\' ({independent:.3f}; uniform '
            f'{summary["uniform_bits_per_dim"]:.3f}) on {summary["dataset"]}',
            f'< {config.baseline_ratio_target}', f'{ours / independent:.3f}',
            bool(ours < config.baseline_ratio_target * independent), kind=FINDING),
  ]


def plot(summary, workdir) -> None:
  workdir = pathlib.Path(workdir)
  shape = summary['image_shape']
  fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
  for ax, (temperature, drawn) in zip(axes, summary['samples'].items()):
    drawn = np.asarray(drawn).reshape(-1, *shape)
    ax.imshow(image_grid(drawn, int(math.ceil(math.sqrt(len(drawn))))), cmap='gray_r',
              vmin=0, vmax=1)
    ax.set_title(f'samples, temperature {temperature}')
    ax.axis('off')
  save_figure(fig, workdir / 'samples.png')

  rows = np.asarray(summary['interpolations'])
  fig, ax = plt.subplots(figsize=(0.8 * rows.shape[1], 0.8 * rows.shape[0]))
  ax.imshow(image_grid(rows.reshape(-1, *shape), rows.shape[1]), cmap='gray_r', vmin=0, vmax=1)
  ax.set_title('latent interpolation between test images')
  ax.axis('off')
  save_figure(fig, workdir / 'interpolations.png')

  fig, ax = plt.subplots(figsize=(5, 3.5))
  for split, curve in summary['curve'].items():
    ax.plot(np.arange(1, len(curve) + 1), curve, label=split)
  ax.axhline(summary['independent_pixel_bits_per_dim'], color='gray', ls=':',
             label='independent pixels')
  ax.set_xlabel('evaluation')
  ax.set_ylabel('bits/dim')
  ax.legend()
  save_figure(fig, workdir / 'bits_per_dim.png')
