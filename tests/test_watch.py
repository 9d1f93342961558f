"""Watching trained agents: greedy play is deterministic and the same episodes
the renderer draws; every environment family renders; the CLI end to end."""
from __future__ import annotations

import importlib
import json
import sys

import jax
import numpy as np
import pytest
from PIL import Image

from dl_course.rl import experiment, watch
from tests.helpers import run
from tests.test_cli import assert_one_line_error

CONFIGS = ['ppo_cartpole', 'ppo_acrobot', 'ppo_pendulum', 'dqn_mountaincar',
           'ppo_breakout_minatar', 'es_cartpole']


def _untrained(name):
  config = importlib.import_module(f'experiments.configs.rl.{name}').get_config('quick')
  algorithm = experiment.build(config)
  return config, algorithm, algorithm.init(jax.random.PRNGKey(0))


@pytest.mark.parametrize('name', CONFIGS)
def test_each_environment_renders_one_frame_per_step(name):
  config, algorithm, state = _untrained(name)
  states, observations, total = watch.rollout(algorithm, config.env, state, eval_seed=3)
  frames = watch.render(config.env, states, observations)
  length = len(jax.tree.leaves(observations)[0])
  assert len(frames) == length >= 2
  assert all(f.size == (watch.WIDTH, watch.HEIGHT) for f in frames)
  pixels = [np.asarray(f) for f in frames]
  assert any((a != b).any() for a, b in zip(pixels, pixels[1:])), 'the rollout never moves'
  returns, lengths = watch.greedy_returns(
      algorithm, config.env, jax.tree.map(lambda a: a[None], state), episodes=2, eval_seed=3)
  assert returns[0, 0] == pytest.approx(total) and lengths[0, 0] == length


def test_greedy_play_is_a_pure_function_of_the_seeds():
  config, algorithm, state = _untrained('ppo_cartpole')
  states = jax.tree.map(lambda a: np.stack([a, a]), state)
  first, _ = watch.greedy_returns(algorithm, config.env, states, episodes=4, eval_seed=1)
  again, _ = watch.greedy_returns(algorithm, config.env, states, episodes=4, eval_seed=1)
  other, _ = watch.greedy_returns(algorithm, config.env, states, episodes=4, eval_seed=2)
  np.testing.assert_array_equal(first, again)
  np.testing.assert_array_equal(first[0], first[1])  # same state, same episodes
  assert not np.array_equal(first, other)


@pytest.mark.slow
def test_watch_a_trained_agent_from_its_workdir(tmp_path):
  workdir = tmp_path / 'ppo'
  done = run([sys.executable, '-m', 'experiments.main',
              '--config=experiments/configs/rl/ppo_cartpole.py:quick', f'--workdir={workdir}'])
  assert done.returncode == 0, done.stderr
  done = run([sys.executable, '-m', 'experiments.watch', f'--workdir={workdir}',
              '--episodes=5', '--seed_index=1'])
  assert done.returncode == 0, done.stderr
  greedy = json.loads((workdir / 'greedy.json').read_text())
  assert np.asarray(greedy['returns']).shape == (2, 5)
  assert greedy['mean_return'] > 100  # random play averages about 22
  with Image.open(workdir / 'rollout.gif') as gif:  # identical neighbours merge into one
    assert 1 < gif.n_frames <= greedy['rendered']['frames']
  with Image.open(workdir / 'rollout_strip.png') as strip:
    assert strip.size == (8 * watch.WIDTH, watch.HEIGHT)
  assert_one_line_error(run([sys.executable, '-m', 'experiments.watch', f'--workdir={workdir}',
                             '--seed_index=2']),
                        '--seed_index=2 is not allowed: the run trained 2 seed(s), 0 to 1')
  assert_one_line_error(run([sys.executable, '-m', 'experiments.watch',
                             f'--workdir={tmp_path}']), 'holds no run (no config.json)')
