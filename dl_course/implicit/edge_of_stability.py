"""Study 3: gradient descent at the edge of stability (Cohen, Kaur, Li, Kolter
& Talwalkar 2021).

Full-batch GD with step η on a real subset. Sharpness λ_max (top Hessian
eigenvalue of the full training loss, Lanczos warm-started from the previous
eigenvector) is measured every few steps. Expected: it first rises
(progressive sharpening) until it reaches 2/η, the stability limit of GD on a
quadratic, then hovers there while the loss keeps falling, non-monotonically.

Each run logs every step's loss and accuracy and every measured sharpness; the
EoS phase is every measurement after sharpness first rises through 90 % of 2/η.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from dl_course.claims import FINDING, Claim, at_least, between
from dl_course.config import check_number_list, check_range
from dl_course.curvature import FlatHessian, chunk_dataset, dataset_loss
from dl_course.engine.guard import check_finite
from dl_course.errors import ConfigError
from dl_course.implicit import networks
from dl_course.plots import plt, save_figure

EOS_ENTRY = 0.9  # sharpness / (2/η) that marks the start of the EoS phase


def validate(config) -> None:
  for key in ('num_train', 'train.num_steps', 'sharpness_every', 'chunk_size'):
    check_range(config, key, 1, integer=True)
  check_number_list(config, 'learning_rates', 0, low_open=True)
  if config.loss not in networks.LOSSES:
    raise ConfigError('loss', config.loss, 'one of ' + ', '.join(networks.LOSSES))


def gd_run(config, learning_rate: float, log, checkpoints=None) -> dict:
  """Full-batch GD at one rate, sharpness measured every `sharpness_every` steps.
  With `checkpoints` (engine/progress.py) chunk ends may be checkpointed, the
  Lanczos warm start included, and a rerun continues from the latest one."""
  x, y, num_classes = networks.subset(config.data.name, 'train', config.num_train,
                                          config.data.dir)
  model = networks.build_model(config, num_classes)
  params = model.init(jax.random.key(config.seed), x[:1])['params']
  loss = dataset_loss(networks.per_example_loss(model, config.loss, num_classes),
                      chunk_dataset(x, y, config.chunk_size))
  accuracy = jax.jit(lambda p: jnp.mean(jnp.argmax(model.apply({'params': p}, x), -1) == y))

  @jax.jit
  def gd_steps(params):
    def step(p, _):
      value, grads = jax.value_and_grad(loss)(p)
      return jax.tree.map(lambda w, g: w - learning_rate * g, p, grads), value
    return jax.lax.scan(step, params, None, length=config.sharpness_every)

  hessian = FlatHessian(loss, params)
  carry = {'loss': [], 'sharpness_step': [], 'sharpness': [], 'eigenvector': None}
  first = 0
  if checkpoints is not None:
    restored, first, kept = checkpoints.restore({'params': params})
    params = restored['params']
    carry = kept or carry
  losses, sharpness_steps, sharpness_values = (
      carry['loss'], carry['sharpness_step'], carry['sharpness'])
  eigenvector = None if carry['eigenvector'] is None else np.asarray(carry['eigenvector'])
  for start in range(first, config.train.num_steps + 1, config.sharpness_every):
    value, eigenvector = networks.sharpness(hessian.move_to(params), eigenvector,
                                                tol=config.lanczos_tol)
    check_finite({'sharpness': value}, first_step=start)
    sharpness_steps.append(start)
    sharpness_values.append(value)
    log({'learning_rate': learning_rate, 'step': start, 'sharpness': value,
         'sharpness_times_lr_over_2': value * learning_rate / 2,
         'train/accuracy': float(accuracy(params))})
    if start == config.train.num_steps:
      break
    params, chunk_losses = gd_steps(params)
    chunk_losses = np.asarray(chunk_losses, np.float64)
    check_finite({'train/loss': chunk_losses}, first_step=start)
    for offset, value in enumerate(chunk_losses):
      log({'learning_rate': learning_rate, 'step': start + offset, 'train/loss': float(value)})
    losses.extend(chunk_losses.tolist())
    if checkpoints is not None:
      end = start + config.sharpness_every
      checkpoints.chunk_done(end, {'params': params},
                             lambda v=eigenvector: {**carry, 'eigenvector': v.tolist()},
                             last=end >= config.train.num_steps)
  return {'learning_rate': learning_rate, 'loss': losses, 'sharpness_step': sharpness_steps,
          'sharpness': sharpness_values, 'final_train_accuracy': float(accuracy(params)),
          **eos_statistics(learning_rate, sharpness_steps, sharpness_values, losses)}


def eos_statistics(learning_rate, steps, sharpness, losses) -> dict:
  """Sharpening factor, entry step, mean and spread of λ·η/2 in the EoS phase,
  and how often the loss rose there."""
  scaled = np.array(sharpness) * learning_rate / 2
  # Entry is a crossing from below: at a large η the sharpness at initialisation
  # can exceed 2/η before GD's first steps push it down.
  below_so_far = np.cumsum(scaled < EOS_ENTRY) > 0
  entered = np.flatnonzero((scaled >= EOS_ENTRY) & np.concatenate([[False], below_so_far[:-1]]))
  before = np.array(sharpness[:entered[0] + 1] if entered.size else sharpness)
  # Sharpness often drops in the first steps; sharpening is the rise after that dip.
  dip = int(np.argmin(before))
  stats = {'initial_sharpness': float(sharpness[0]), 'dip_sharpness': float(before[dip]),
           'sharpening_factor': float(before[dip:].max() / before[dip]),
           'eos_entry_step': int(steps[entered[0]]) if entered.size else None}
  if entered.size:
    phase = scaled[entered[0]:]
    losses_in_phase = np.array(losses[steps[entered[0]]:])
    stats.update(eos_mean=float(phase.mean()), eos_min=float(phase.min()),
                 eos_max=float(phase.max()), eos_measurements=int(phase.size),
                 loss_increases_in_eos=int(np.sum(np.diff(losses_in_phase) > 0)),
                 loss_at_eos_entry=float(losses_in_phase[0]) if losses_in_phase.size else None,
                 final_loss=float(losses[-1]))
  return stats


def run(config, progress) -> dict:
  """Each learning rate is a unit (engine/progress.py): a rerun continues."""
  runs = [progress.unit(f'learning_rate_{lr}', lambda checkpoints, lr=lr: gd_run(
      config, lr, progress.log, checkpoints)) for lr in config.learning_rates]
  return {'runs': runs, 'model': config.model.name, 'loss': config.loss}


stage_model = networks.stage_model  # for load_run


def claims(config, summary) -> list[Claim]:
  out = []
  for r in summary['runs']:
    where = f'{summary["model"]}/{summary["loss"]}, η={r["learning_rate"]}'
    if r['eos_entry_step'] is None:
      out.append(Claim(f'EoS: sharpness reaches 2/η, {where}', 'reached',
                       f'max λ·η/2 = {max(r["sharpness"]) * r["learning_rate"] / 2:.2f}', False,
                       kind=FINDING))
      continue
    out.append(between(f'EoS: mean λ_max·η/2 after reaching 2/η, {where}', r['eos_mean'],
                       *config.claim.eos_mean, kind=FINDING,
                       published='hovers just above 1 (Cohen et al. 2021)'))
    out.append(Claim(f'EoS: loss falls non-monotonically in the EoS phase, {where}',
                     'final < at entry; rises > 0',
                     f'{r["loss_at_eos_entry"]:.3g} -> {r["final_loss"]:.3g}; '
                     f'{r["loss_increases_in_eos"]} rises',
                     bool(r['final_loss'] < r['loss_at_eos_entry']
                          and r['loss_increases_in_eos'] > 0), kind=FINDING,
                     published='falls over long times, not monotonically (Cohen et al. 2021)'))
  first = min(summary['runs'], key=lambda r: r['learning_rate'])
  out.append(at_least(f'EoS: progressive sharpening, λ_max at 2/η over its early minimum, '
                      f'η={first["learning_rate"]}', first['sharpening_factor'],
                      config.claim.min_sharpening, digits=2, kind=FINDING,
                      published='sharpness rises until 2/η (Cohen et al. 2021)'))
  return out


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for r in summary['runs']:
    line, = axes[1].plot(r['sharpness_step'], r['sharpness'], label=f'η={r["learning_rate"]}')
    axes[1].axhline(2 / r['learning_rate'], ls='--', color=line.get_color(), lw=1)
    axes[0].plot(np.arange(len(r['loss'])), r['loss'], color=line.get_color(),
                 label=f'η={r["learning_rate"]}')
  axes[0].set_yscale('log')
  axes[0].set_title(f'train loss ({summary["loss"]})')
  axes[1].set_title('sharpness λ_max (dashed: 2/η)')
  for ax in axes:
    ax.set_xlabel('step')
    ax.grid(alpha=0.3)
    ax.legend()
  fig.suptitle(f'Edge of stability: {summary["model"]}, full-batch GD')
  save_figure(fig, workdir / 'edge_of_stability.png')
