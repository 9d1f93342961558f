"""PPO CartPole-v1 at the standard setting (500k steps): compile time, run time
and environment steps per second, for one seed and for S seeds vmapped.

  python -m launch.bench_rl [--seeds=8] [--total_timesteps=500000]

`train(key)` is the whole run (init, then every update as one lax.scan),
compiled once; S seeds are `vmap(train)` over S keys. Targets on a 2-core CPU:
one seed in <= 10 s including compilation, S = 8 seeds in less than 8x one.
Timings are wall clock after `block_until_ready`, each run once after its
compilation (the run is long, so one sample is stable to a few %).
"""
from __future__ import annotations

import time

import jax
from absl import app, flags

from dl_course.rl import ppo
from experiments.configs.rl_ppo_cartpole import get_config

_SEEDS = flags.DEFINE_integer('seeds', 8, 'Seeds in the vmapped run.')
_STEPS = flags.DEFINE_integer('total_timesteps', 500_000, 'Environment steps per seed.')


def measure(train, keys) -> dict:
  start = time.perf_counter()
  compiled = jax.jit(train).lower(keys).compile()
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  _, metrics = compiled(keys)
  jax.block_until_ready(metrics)
  return {'compile_s': compile_s, 'run_s': time.perf_counter() - start}


def main(argv):
  del argv
  config = get_config()
  config.total_timesteps = _STEPS.value
  algorithm = ppo.make(config)
  train = algorithm.make_train()
  steps = algorithm.num_updates * algorithm.steps_per_update
  rows = {'1 seed': measure(train, jax.random.PRNGKey(0)),
          f'{_SEEDS.value} seeds (vmap)': measure(jax.vmap(train),
                                                  jax.random.split(jax.random.PRNGKey(0),
                                                                   _SEEDS.value))}
  print(f'PPO CartPole-v1, {steps:,} steps per seed, {jax.devices()[0].device_kind} '
        f'x{jax.device_count()}')
  print(f'{"run":<16} {"compile s":>10} {"run s":>8} {"total s":>8} {"env steps/s":>12}')
  for (name, row), seeds in zip(rows.items(), (1, _SEEDS.value)):
    total = row['compile_s'] + row['run_s']
    print(f'{name:<16} {row["compile_s"]:>10.2f} {row["run_s"]:>8.2f} {total:>8.2f} '
          f'{seeds * steps / row["run_s"]:>12,.0f}')
  one, many = rows.values()
  print(f'run time of {_SEEDS.value} vmapped seeds / one seed: '
        f'{many["run_s"] / one["run_s"]:.2f} (target < {_SEEDS.value})')


if __name__ == '__main__':
  app.run(main)
