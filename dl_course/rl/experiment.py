"""One RL experiment: an algorithm on an environment for several seeds, into a workdir.

Writes config.json, manifest.json, metrics.jsonl (one record per update: the
mean return over seeds and each seed's), checkpoints/ (the whole runner state
after every chunk: a rerun with the same workdir resumes), learning_curve.png,
summary.json; returns the summary and the config's claim.
"""
from __future__ import annotations

import pathlib

import numpy as np

from dl_course.claims import FINDING, Claim
from dl_course.config import check_choice, check_fits_in_memory, check_range, to_json_dict
from dl_course.engine.loop import StopRequest, progress_bar
from dl_course.engine.records import MetricWriter, check_same_run, is_writer, read_metrics, \
    write_json, write_manifest
from dl_course.plots import plt, save_figure
from dl_course.rl import envs, runner
from dl_course.studies import Stopped
from dl_course.rl import dqn, evolution, ppo, reinforce

ALGORITHMS = {'dqn': dqn, 'es': evolution, 'ppo': ppo, 'reinforce': reinforce}


def validate(config) -> None:
  check_choice(config, 'algorithm', ALGORITHMS)
  check_choice(config, 'env', envs.ENVIRONMENTS)
  check_range(config, 'seed', 0, integer=True)
  check_range(config, 'num_seeds', 1, integer=True)
  check_range(config, 'chunk_updates', 1, integer=True)
  check_range(config, 'final_fraction', 0, 1, low_open=True)
  ALGORITHMS[config.algorithm].validate(config)


def build(config):
  validate(config)
  return ALGORITHMS[config.algorithm].make(config)


def run(config, workdir: pathlib.Path, max_chunks: int | None = None) -> dict | Stopped:
  """Trains (or resumes) into `workdir`; returns the summary, or Stopped when
  stopped by `max_chunks` before the end (rerun to resume)."""
  algorithm = build(config)
  check_fits_in_memory(f'the runner state of {config.num_seeds} seeds (networks, environments, '
                       'any replay buffer)', runner.state_bytes(algorithm, config.num_seeds),
                       'config.num_envs, config.buffer_size or config.num_seeds')
  workdir = pathlib.Path(workdir)
  checkpoints = workdir / 'checkpoints'
  check_same_run(workdir, config)  # before anything in the workdir is overwritten
  start = runner.completed_updates(checkpoints)
  if is_writer():
    write_json(workdir / 'config.json', to_json_dict(config))
  write_manifest(workdir, seed=config.seed, start_step=start)
  writer = MetricWriter(workdir)
  writer.truncate_after(start)
  if start == 0:
    (workdir / 'metrics.jsonl').unlink(missing_ok=True)

  bar = progress_bar(algorithm.num_updates, initial=start, unit='update',
                     desc=f'{config.algorithm} {config.env}')

  def log_chunk(first_update, metrics):
    returns = runner.mean_return(metrics)  # [S, K]
    bar.update(returns.shape[1])
    if np.isfinite(returns[:, -1]).any():
      bar.set_postfix(ret=f'{np.nanmean(returns[:, -1]):.1f}', refresh=False)
    for k in range(returns.shape[1]):
      update = first_update + k + 1
      per_seed = [None if np.isnan(r) else float(r) for r in returns[:, k]]
      known = [r for r in per_seed if r is not None]
      writer.write({'step': update, 'env_steps': update * algorithm.steps_per_update,
                    'return': float(np.mean(known)) if known else None,
                    'return_per_seed': per_seed,
                    **{name: float(np.mean(values[:, k])) for name, values in metrics.items()
                       if name not in ('episodes', 'return_sum')}})

  with StopRequest().on_signals() as stop, bar:
    _, done = runner.train_seeds(algorithm, runner.seed_keys(config.seed, config.num_seeds),
                                 chunk_updates=config.chunk_updates, checkpoint_dir=checkpoints,
                                 on_chunk=log_chunk, max_chunks=max_chunks, stop=stop)
  if done < algorithm.num_updates:
    return Stopped(done, stop.reason or '--max_chunks')
  summary = summarise(config, read_metrics(workdir), algorithm)
  if is_writer():
    write_json(workdir / 'summary.json', summary)
    plot(summary, workdir)
  return summary


def summarise(config, records, algorithm) -> dict:
  per_seed = np.array([[np.nan if r is None else r for r in rec['return_per_seed']]
                       for rec in records])  # [U, S]
  tail = max(1, int(round(config.final_fraction * len(records))))
  final = np.nanmean(per_seed[-tail:], axis=0)  # each seed's mean over the final updates
  return {'algorithm': config.algorithm, 'env': config.env, 'num_seeds': config.num_seeds,
          'env_steps': [rec['env_steps'] for rec in records],
          'return_per_seed': [[None if np.isnan(v) else float(v) for v in row]
                              for row in per_seed],
          'final_return_per_seed': final.tolist(), 'final_return': float(np.mean(final)),
          'final_return_std': float(np.std(final)), 'final_updates': tail,
          'total_env_steps': algorithm.num_updates * algorithm.steps_per_update}


def claims(config, summary) -> list[Claim]:
  ours = summary['final_return']
  name = (f'{config.algorithm.upper()} {config.env}: mean return over the last '
          f'{config.final_fraction:.0%} of {summary["total_env_steps"]:,} steps, '
          f'{config.num_seeds} seeds' + (f', {config.target_note}' if config.target_note else ''))
  return [Claim(name, f'>= {config.target_return:g}',
                f'{ours:.1f} ± {summary["final_return_std"]:.1f}',
                bool(ours >= config.target_return), kind=FINDING, published=config.published)]


def table(summary) -> str:
  return '\n'.join([
      'algorithm | environment | env steps | seeds | final return (mean ± std)',
      '---|---|---|---|---',
      f'{summary["algorithm"]} | {summary["env"]} | {summary["total_env_steps"]:,} '
      f'| {summary["num_seeds"]} | {summary["final_return"]:.1f} ± '
      f'{summary["final_return_std"]:.1f}'])


def plot(summary, workdir: pathlib.Path) -> None:
  steps = np.asarray(summary['env_steps'])
  returns = np.array([[np.nan if v is None else v for v in row]
                      for row in summary['return_per_seed']], np.float64)
  # Updates in which no episode ended carry the previous value forward, per seed.
  for s in range(returns.shape[1]):
    column = returns[:, s]
    for u in range(1, len(column)):
      if np.isnan(column[u]):
        column[u] = column[u - 1]
  mean, low, high = (np.nanmean(returns, 1), np.nanmin(returns, 1), np.nanmax(returns, 1))
  fig, ax = plt.subplots(figsize=(6, 4))
  ax.plot(steps, mean, label=f'mean of {returns.shape[1]} seeds')
  ax.fill_between(steps, low, high, alpha=0.3, label='min-max over seeds')
  ax.set_xlabel('environment steps')
  ax.set_ylabel('episodic return')
  ax.set_title(f'{summary["algorithm"].upper()} on {summary["env"]}')
  ax.legend()
  save_figure(fig, workdir / 'learning_curve.png')
