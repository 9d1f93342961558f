"""RL: advantages by hand, exact resume of a chunked run, seed sharding, errors."""
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dl_course.rl.advantages import discounted_returns, gae
from tests.helpers import (assert_finished, assert_trees_bitwise_equal, popen, qr_operand_ranks,
                           run)
from tests.test_cli import assert_one_line_error

TINY = ['--config.total_timesteps=2048', '--config.num_envs=4', '--config.num_steps=64',
        '--config.chunk_updates=2', '--config.num_seeds=4']


def test_gae_and_returns_by_hand():
  # One env, three steps; the episode is truncated after step 1 (done, not
  # terminated: bootstrap from V(s'_1) = 4) and terminates after step 2.
  rewards = jnp.array([[1.0], [2.0], [3.0]])
  values = jnp.array([[0.5], [1.0], [1.5]])
  next_values = jnp.array([[1.0], [4.0], [9.0]])
  terminated = jnp.array([[0.0], [0.0], [1.0]])
  done = jnp.array([[False], [True], [True]])
  gamma, lam = 0.9, 0.8
  delta = [1 + 0.9 * 1.0 - 0.5, 2 + 0.9 * 4.0 - 1.0, 3 - 1.5]
  a2 = delta[2]
  a1 = delta[1]
  a0 = delta[0] + gamma * lam * a1
  advantages, targets = gae(rewards, values, next_values, terminated, done, gamma, lam)
  np.testing.assert_allclose(advantages[:, 0], [a0, a1, a2], rtol=1e-6)
  np.testing.assert_allclose(targets[:, 0], np.array([a0, a1, a2]) + [0.5, 1.0, 1.5], rtol=1e-6)
  returns = discounted_returns(rewards, done, gamma)
  np.testing.assert_allclose(returns[:, 0], [1 + 0.9 * 2, 2, 3], rtol=1e-6)
  bootstrapped = discounted_returns(rewards, jnp.zeros_like(done), gamma, jnp.array([10.0]))
  np.testing.assert_allclose(bootstrapped[:, 0],
                             [1 + 0.9 * 2 + 0.81 * 3 + 0.729 * 10, 2 + 0.9 * 3 + 0.81 * 10,
                              3 + 0.9 * 10], rtol=1e-6)


def rl_command(workdir, *extra):
  return [sys.executable, '-m', 'experiments.main',
          '--config=experiments/configs/rl/ppo_cartpole.py:quick', f'--workdir={workdir}',
          *TINY, *extra]


def read(workdir):
  return (workdir / 'metrics.jsonl').read_text(), json.loads((workdir / 'summary.json').read_text())


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  """The reference: TINY on one device, in one go."""
  workdir = tmp_path_factory.mktemp('whole')
  done = run(rl_command(workdir))
  assert_finished(done)
  return workdir


def test_load_run_gives_back_every_seed_and_the_policy_network(uninterrupted):
  import dl_course
  run = dl_course.load_run(uninterrupted)
  assert run.summary['num_seeds'] == run.config.num_seeds
  params = jax.tree.map(lambda a: a[0], run.state.params)  # seed 0
  policy, value = run.model.apply({'params': params}, jnp.zeros((3, 4)))
  assert policy.shape == (3, 2) and value.shape == (3,)
  assert run.step == run.metrics[-1]['step']


@pytest.mark.slow
def test_a_chunked_run_stopped_and_resumed_is_bit_identical(uninterrupted, tmp_path):
  first = run(rl_command(tmp_path, '--max_chunks=2'))
  assert first.returncode == 0 and 'stopped by --max_chunks at step' in first.stdout, first.stderr
  assert len((tmp_path / 'metrics.jsonl').read_text().splitlines()) == 4
  second = run(rl_command(tmp_path))
  assert_finished(second)
  assert read(uninterrupted) == read(tmp_path)
  starts = [launch['start_step'] for launch in
            json.loads((tmp_path / 'manifest.json').read_text())['launches']]
  assert starts == [0, 4]


@pytest.mark.slow
def test_seeds_sharded_over_four_devices_match_one_device(uninterrupted, tmp_path):
  assert_finished(run(rl_command(tmp_path), devices=4))
  _, summary_one = read(uninterrupted)
  _, summary_four = read(tmp_path)
  np.testing.assert_allclose(summary_four['final_return_per_seed'],
                             summary_one['final_return_per_seed'], rtol=1e-5)
  assert len(set(summary_one['final_return_per_seed'])) == 4  # the seeds are different runs
  assert json.loads((tmp_path / 'manifest.json').read_text())['devices']['count'] == 4


@pytest.mark.parametrize('override,expected', [
    ('--config.env=Pong-v5', "config.env='Pong-v5' is not allowed: one of"),
    ('--config.num_minibatches=3', 'config.num_minibatches=3 is not allowed: a divisor of'),
    ('--config.algorithm=sac', "config.algorithm='sac' is not allowed: one of dqn, es, "
                               "ppo, reinforce"),
    ('--config.gamma=1.5', 'config.gamma=1.5 is not allowed'),
], ids=['unknown env', 'minibatches', 'unknown algorithm', 'gamma'])
def test_bad_input_is_one_line(tmp_path, override, expected):
  assert_one_line_error(run(rl_command(tmp_path, override), timeout=60), expected)


def test_reinforce_reward_to_go_bootstraps_only_where_the_episode_goes_on():
  from dl_course.rl.reinforce import reward_to_go
  # One env, four steps: truncated after step 0 (bootstrap V = 5), terminated
  # after step 2, and a new episode still running when the rollout ends (V = 7).
  traj = {'reward': jnp.array([[1.0], [1.0], [1.0], [1.0]]),
          'next_value': jnp.array([[5.0], [0.0], [0.0], [7.0]]),
          'terminated': jnp.array([[0.0], [0.0], [1.0], [0.0]]),
          'done': jnp.array([[True], [False], [True], [False]])}
  returns = reward_to_go(traj, 0.5)
  np.testing.assert_allclose(returns[:, 0], [1 + 0.5 * 5, 1 + 0.5 * 1, 1, 1 + 0.5 * 7])


def test_dqn_replay_ring_and_target_copies():
  import jax
  from dl_course.rl import dqn
  from experiments.configs.rl.dqn_cartpole import get_config
  config = get_config('quick')
  config.update(num_envs=2, buffer_size=6, train_frequency=1, cycles_per_update=5,
                learning_starts=0, target_update_interval=4, total_timesteps=20,
                hidden_sizes=(8,))
  algorithm = dqn.make(config)
  state = algorithm.init(jax.random.key(0))
  state, _ = jax.jit(algorithm.update)(state, None)  # 5 cycles x 1 step x 2 envs
  assert int(state.steps) == 10 and int(state.buffer_size) == 6
  assert int(state.buffer_next) == 10 % 6
  assert set(np.asarray(state.buffer['action']).tolist()) <= {0, 1}
  # Steps 2, 4, 6, 8, 10 end the cycles; the copy happened at 4 and 8, not at 10:
  # the online network moved on by two more gradient steps.
  online, target = state.params['Dense_0']['kernel'], state.target_params['Dense_0']['kernel']
  assert not np.allclose(online, target)
  state, _ = jax.jit(algorithm.update)(state, None)  # steps 12 (copy), 14, 16 (copy), 18, 20 (copy)
  np.testing.assert_array_equal(state.params['Dense_0']['kernel'],
                                state.target_params['Dense_0']['kernel'])


def test_dqn_on_a_continuous_action_env_is_a_one_line_error(tmp_path):
  done = run([sys.executable, '-m', 'experiments.main',
              '--config=experiments/configs/rl/dqn_cartpole.py:quick', f'--workdir={tmp_path}',
              '--config.env=Pendulum-v1'], timeout=60)
  assert_one_line_error(done, "config.env='Pendulum-v1' is not allowed: an environment with "
                              "discrete actions")


def test_es_fitness_shaping_is_centred_ranks():
  from dl_course.rl.evolution import centred_ranks
  shaped = centred_ranks(jnp.array([10.0, -3.0, 250.0, 7.0]))
  np.testing.assert_allclose(shaped, [1 / 6, -0.5, 0.5, -1 / 6], rtol=1e-6)
  assert float(shaped.sum()) == pytest.approx(0.0, abs=1e-6)


def test_frames_are_flattened_per_observation_not_per_row():
  """MinAtar observations are 10x10xC frames: one policy output per environment."""
  from dl_course.rl import envs
  from dl_course.rl.networks import ActorCritic
  env, params = envs.make('Breakout-MinAtar')
  obs, _ = envs.reset(env, params, jax.random.key(0), 3)
  assert obs.shape == (3, 10, 10, 4)
  network = ActorCritic(3, True, (16,), envs.observation_rank(env, params))
  variables = network.init(jax.random.key(1), obs)
  logits, value = network.apply(variables, obs)
  assert logits.shape == (3, 3) and value.shape == (3,)


def test_seeds_are_initialised_one_by_one_exactly_as_each_alone():
  from dl_course.rl import experiment, runner
  from experiments.configs.rl import ppo_cartpole
  algorithm = experiment.build(ppo_cartpole.get_config('quick'))
  keys = runner.seed_keys(0, 3)
  together = runner.init_seeds(algorithm, keys)
  # The networks' orthogonal inits are QRs: one seed's matrix at a time, never batched.
  assert set(qr_operand_ranks(jax.make_jaxpr(runner._mapped_init(algorithm))(keys).jaxpr)) == {2}
  alone = jax.jit(algorithm.init)
  for s in range(3):
    assert_trees_bitwise_equal(jax.tree.map(lambda a, s=s: a[s], together), alone(keys[s]))


HANG_TRIGGER = """
import jax
from dl_course.rl import experiment, runner
from experiments.configs.rl import ppo_breakout_minatar
algorithm = experiment.build(ppo_breakout_minatar.get_config('quick'))
jax.block_until_ready(runner.init_seeds(algorithm, runner.seed_keys(0, 4)))
print('initialised')
"""


@pytest.mark.slow
def test_the_old_hang_trigger_finishes_ten_times_in_ten():
  """Four MinAtar seeds initialised together deadlocked jaxlib's batched CPU QR
  (6 of 6 runs before the fix, issue 19). Ten runs, two at a time, each under a
  hard timeout: a hang fails the test, and nothing reruns it."""
  for _ in range(5):
    children = [popen([sys.executable, '-c', HANG_TRIGGER]) for _ in range(2)]
    for child in children:
      try:
        out, err = child.communicate(timeout=90)
      except subprocess.TimeoutExpired:
        for c in children:
          c.kill()
        pytest.fail('initialising 4 MinAtar seeds hung for 90 s')
      assert child.returncode == 0 and 'initialised' in out, err
