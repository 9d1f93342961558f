"""A GAN on the 8-Gaussian ring: does it cover every mode?

Generator and discriminator are MLPs (dl_course.generative.gan); the whole
training run is one scan, vmapped over seeds. After training, 2,000
generated points are assigned to their nearest mode; a point is
"high quality" within 3 standard deviations of it, and a mode counts as
covered when it holds at least a fifth of its fair share (1/8) of the points.
The non-saturating generator loss is the claimed one; the original minimax
loss runs beside it with the same seeds. The failure to watch for is mode
dropping (a mode left empty: its share below the threshold); the figures show
every seed's samples with its mode count.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from dl_course.claims import FINDING, Claim, at_least
from dl_course.config import check_range
from dl_course.errors import ConfigError
from dl_course.generative import gan, toy2d
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('num_seeds', 'train.num_steps', 'train.batch_size', 'noise_dim', 'num_samples'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  if not config.losses or any(kind not in gan.GENERATOR_LOSSES for kind in config.losses):
    raise ConfigError('losses', config.losses, 'a list from ' + ', '.join(gan.GENERATOR_LOSSES))
  if config.losses[0] != 'non_saturating':
    raise ConfigError('losses', config.losses, "a list starting with 'non_saturating' "
                      '(the claimed one)')


def run(config, log) -> dict:
  modes = jnp.asarray(toy2d.EIGHT_CENTRES)
  keys = jax.random.split(jax.random.key(config.seed), config.num_seeds)
  results = {}
  for kind in config.losses:
    train = gan.make_train(
        lambda key, n: toy2d.draw('8gaussians', key, n), data_dim=2,
        noise_dim=config.noise_dim, hidden=tuple(config.hidden), generator_loss_kind=kind,
        num_steps=config.train.num_steps, batch_size=config.train.batch_size,
        learning_rate=config.optimizer.learning_rate, num_samples=config.num_samples)
    samples, losses = jax.jit(jax.vmap(train))(keys)
    covered, quality, shares = [], [], []
    for seed_samples in samples:
      c, q, s = gan.mode_coverage(seed_samples, modes, 3 * toy2d.EIGHT_STD, 0.2 / len(modes))
      covered.append(int(c))
      quality.append(float(q))
      shares.append(np.asarray(s).tolist())
    for seed, (c, q) in enumerate(zip(covered, quality)):
      log({'step': config.train.num_steps,
           'loss': kind, 'seed': seed, 'modes_covered': c, 'high_quality': q})
    every = max(1, config.train.num_steps // 200)
    results[kind] = {'modes_covered': covered, 'high_quality': quality, 'mode_shares': shares,
                     'samples': np.round(np.asarray(samples[:, :500]), 3).tolist(),
                     'losses': np.asarray(losses[:, ::every]).round(4).tolist()}
  return {'num_modes': len(modes), 'results': results}


def claims(config, summary) -> list[Claim]:
  ours = summary['results']['non_saturating']
  n = summary['num_modes']
  seeds = len(ours['modes_covered'])
  return [
      at_least(f'GAN (non-saturating), 8 Gaussians: modes covered, mean of {seeds} seeds',
               float(np.mean(ours['modes_covered'])), n - config.claim.max_missing_modes,
               digits=2, kind=FINDING),
      at_least(f'GAN (non-saturating): share of samples within 3 std of a mode, mean of {seeds} '
               'seeds', float(np.mean(ours['high_quality'])), config.claim.min_high_quality,
               digits=3, kind=FINDING),
  ]


def plot(summary, workdir) -> None:
  workdir = pathlib.Path(workdir)
  results = summary['results']
  seeds = len(next(iter(results.values()))['samples'])
  fig, axes = plt.subplots(len(results), seeds, figsize=(2.2 * seeds, 2.3 * len(results)),
                           squeeze=False)
  modes = np.asarray(toy2d.EIGHT_CENTRES)
  for ax_row, (kind, result) in zip(axes, results.items()):
    for seed, ax in enumerate(ax_row):
      points = np.asarray(result['samples'][seed])
      ax.scatter(points[:, 0], points[:, 1], s=1, alpha=0.5)
      ax.scatter(modes[:, 0], modes[:, 1], s=12, c='r', marker='x')
      ax.set_title(f'{kind}, seed {seed}: {result["modes_covered"][seed]}/8', fontsize=7)
      ax.set_xlim(-3.5, 3.5)
      ax.set_ylim(-3.5, 3.5)
      ax.set_xticks([])
      ax.set_yticks([])
  save_figure(fig, workdir / 'gan_samples.png')

  fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.2), squeeze=False)
  for ax, (kind, result) in zip(axes[0], results.items()):
    losses = np.asarray(result['losses'])
    ax.plot(losses[:, :, 0].T, color='C0', alpha=0.5, lw=0.8)
    ax.plot(losses[:, :, 1].T, color='C1', alpha=0.5, lw=0.8)
    ax.set_title(f'{kind}: discriminator (blue), generator (orange)', fontsize=8)
    ax.set_xlabel('step / 200 of the run')
  save_figure(fig, workdir / 'gan_losses.png')
