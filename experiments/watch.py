"""Watches a trained RL agent: greedy episodes and a rendered rollout.

  python -m experiments.watch --workdir=RUN [--episodes=10] [--eval_seed=0] [--seed_index=0]

Plays --episodes greedy episodes (the policy's most likely action, no
exploration) with every trained seed in RUN's latest checkpoint, prints each
seed's mean return and writes RUN/greedy.json. Then renders one greedy episode
of seed --seed_index as RUN/rollout.gif and RUN/rollout_strip.png (8 frames
side by side), unless --render=false.
"""
from __future__ import annotations

import pathlib

import jax
import numpy as np
from absl import flags

from dl_course.engine.records import is_writer, write_json
from dl_course.errors import UserError
from dl_course.rl import experiment, watch
from dl_course.runs import load_run
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'The RL run to watch.')
_EPISODES = flags.DEFINE_integer('episodes', 10, 'Greedy episodes per seed.', lower_bound=1)
_EVAL_SEED = flags.DEFINE_integer('eval_seed', 0, 'Seed of the episodes\' resets.', lower_bound=0)
_SEED_INDEX = flags.DEFINE_integer('seed_index', 0, 'Which trained seed to render.',
                                   lower_bound=0)
_RENDER = flags.DEFINE_bool('render', True, 'Write rollout.gif and rollout_strip.png.')


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not _WORKDIR.value:
    raise UserError('--workdir is required: an RL run (experiments/configs/rl/)')
  workdir = pathlib.Path(_WORKDIR.value)
  run = load_run(workdir)
  if 'algorithm' not in run.config:
    raise UserError(f'{workdir} is a {run.config.get("study")!r} run, not an RL run')
  algorithm = experiment.build(run.config)
  seeds = run.config.num_seeds
  if _SEED_INDEX.value >= seeds:
    raise UserError(f'--seed_index={_SEED_INDEX.value} is not allowed: the run trained '
                    f'{seeds} seed(s), 0 to {seeds - 1}')
  returns, lengths = watch.greedy_returns(algorithm, run.config.env, run.state, _EPISODES.value,
                                          _EVAL_SEED.value)
  result = {'step': run.step, 'episodes': _EPISODES.value, 'eval_seed': _EVAL_SEED.value,
            'returns': returns.tolist(), 'lengths': lengths.tolist(),
            'mean_return': float(returns.mean()),
            'mean_return_per_seed': returns.mean(axis=1).tolist()}
  lines = [f'{run.config.env}, {run.config.algorithm}, after {run.step} updates: greedy return '
           f'{returns.mean():.1f} (mean of {seeds} seed(s) x {_EPISODES.value} episodes)']
  lines += [f'  seed {i}: {r.mean():.1f} ± {r.std():.1f}' for i, r in enumerate(returns)]
  if _RENDER.value:
    state = jax.tree.map(lambda a: a[_SEED_INDEX.value], run.state)
    states, observations, total = watch.rollout(algorithm, run.config.env, state, _EVAL_SEED.value)
    frames = watch.render(run.config.env, states, observations)
    if is_writer():
      watch.save_gif(frames, workdir / 'rollout.gif')
      watch.save_strip(frames, workdir / 'rollout_strip.png')
    result['rendered'] = {'seed_index': _SEED_INDEX.value, 'frames': len(frames),
                          'return': total}
    lines.append(f'rendered seed {_SEED_INDEX.value}: {len(frames)} frames, return {total:.1f}: '
                 f'{workdir / "rollout.gif"}, {workdir / "rollout_strip.png"}')
  if is_writer():
    write_json(workdir / 'greedy.json', result)
  print('\n'.join(lines))


if __name__ == '__main__':
  np.set_printoptions(precision=2)
  cli.run(main)
