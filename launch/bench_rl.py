"""PPO CartPole-v1 at the standard setting (500k steps): compile time, run time,
whole-process time and environment steps per second, for one seed and for S
seeds vmapped.

  python -m launch.bench_rl [--seeds=8] [--total_timesteps=500000]

`train(key)` is the whole run (init, then every update as one lax.scan),
compiled once; S seeds are `vmap(train)` over S keys. Targets on a 2-core CPU:
one seed in <= 10 s including compilation, S = 8 seeds in less than 8x one.
The one-seed run is measured twice, each in a fresh process sharing a new, empty
persistent compilation cache: cold (compiles, fills the cache: a first run),
then warm (reads the compiled program back: every later run of the same
program, since every command turns the cache on; dl_course/engine/compilation_cache.py).
The S-seed row runs with the cache off. "process s" is the child's wall time,
interpreter start and imports included: the figure to set beside PureJaxRL's
`ppo.py` (same hyperparameters; WORKSPACE.md has the side-by-side command).
Timings are wall clock after `block_until_ready`, each run once after its
compilation (the run is long, so one sample is stable to a few %). Each
measurement runs in its own process, so that each compilation is cold.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import jax
from absl import flags

from dl_course.engine import compilation_cache
from dl_course.rl import ppo
from experiments.configs.rl.ppo_cartpole import get_config
from experiments import cli

_SEEDS = flags.DEFINE_integer('seeds', 8, 'Seeds in the vmapped run.', lower_bound=1)
_STEPS = flags.DEFINE_integer('total_timesteps', 500_000, 'Environment steps per seed.',
                              lower_bound=1)
_ONLY = flags.DEFINE_integer('only', None, 'Measure this many seeds here and print JSON '
                             '(the parent process runs one child per row).', lower_bound=1)


def measure(train, keys) -> dict:
  start = time.perf_counter()
  compiled = jax.jit(train).lower(keys).compile()
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  # Wait on every output: dropping the final state while the run is in flight
  # hung jaxlib 0.10's CPU runtime in about half the runs here.
  jax.block_until_ready(compiled(keys))
  return {'compile_s': compile_s, 'run_s': time.perf_counter() - start}


def measure_here(num_seeds: int) -> dict:
  config = get_config()
  config.total_timesteps = _STEPS.value
  algorithm = ppo.make(config)
  train = algorithm.make_train()
  if num_seeds == 1:
    row = measure(train, jax.random.PRNGKey(0))
  else:
    row = measure(jax.vmap(train), jax.random.split(jax.random.PRNGKey(0), num_seeds))
  return {**row, 'steps': algorithm.num_updates * algorithm.steps_per_update,
          'device': f'{jax.devices()[0].device_kind} x{jax.device_count()}'}


def measure_in_child(num_seeds: int, cache_dir: str | None = None) -> dict:
  """One row in a fresh process, with the persistent cache in `cache_dir` (None: off);
  `whole_s` is the child's wall time, interpreter start and imports included."""
  env = {**os.environ, compilation_cache.VARIABLE: cache_dir or 'off'}
  start = time.perf_counter()
  done = subprocess.run([sys.executable, '-m', 'launch.bench_rl', f'--only={num_seeds}',
                         f'--total_timesteps={_STEPS.value}'], capture_output=True, text=True,
                        check=True, timeout=900, env=env)
  whole_s = time.perf_counter() - start
  return {**json.loads(done.stdout.strip().splitlines()[-1]), 'whole_s': whole_s}


def main(argv):
  del argv
  if _ONLY.value:
    print(json.dumps(measure_here(_ONLY.value)))
    return
  with tempfile.TemporaryDirectory() as cache_dir:
    one = measure_in_child(1, cache_dir)
    warm = measure_in_child(1, cache_dir)
  many = measure_in_child(_SEEDS.value)
  rows = [('1 seed', 1, one), ('1 seed, warm cache', 1, warm),
          (f'{_SEEDS.value} seeds (vmap)', _SEEDS.value, many)]
  print(f'PPO CartPole-v1, {one["steps"]:,} steps per seed, {one["device"]}')
  print(f'{"run":<20} {"compile s":>10} {"run s":>8} {"total s":>8} {"process s":>10} '
        f'{"env steps/s":>12}')
  for name, seeds, row in rows:
    total = row['compile_s'] + row['run_s']
    print(f'{name:<20} {row["compile_s"]:>10.2f} {row["run_s"]:>8.2f} {total:>8.2f} '
          f'{row["whole_s"]:>10.2f} {seeds * row["steps"] / row["run_s"]:>12,.0f}')
  print(f'run time of {_SEEDS.value} vmapped seeds / one seed: '
        f'{many["run_s"] / one["run_s"]:.2f} (target < {_SEEDS.value})')


if __name__ == '__main__':
  cli.run(main)
