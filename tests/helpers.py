"""Running the real command-line entry points in subprocesses (fresh JAX per run)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import jax
import jax.extend.core
import numpy as np


REPO = pathlib.Path(__file__).resolve().parents[1]
MLP_QUICK = 'experiments/configs/mnist1d/mlp.py:quick'


def env_with_devices(devices: int = 1) -> dict:
  env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
  env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
  env['PYTHONPATH'] = str(REPO)
  env['JAX_PLATFORMS'] = 'cpu'
  return env


def classify_command(workdir, *overrides, config: str = MLP_QUICK) -> list[str]:
  return [sys.executable, '-m', 'experiments.main', f'--config={config}',
          f'--workdir={workdir}', '--config.progress=False', *overrides]


def run(command: list[str], devices: int = 1, timeout: float = 300,
        ) -> subprocess.CompletedProcess:
  """The child under a hard timeout: a hang is a bug, so it fails the test
  (subprocess.TimeoutExpired) and nothing reruns it."""
  return subprocess.run(command, cwd=REPO, env=env_with_devices(devices), capture_output=True,
                        text=True, timeout=timeout, check=False)


def assert_finished(done: subprocess.CompletedProcess) -> None:
  """The run went to its end: exit 0, or 3 when a run shortened for the test
  misses its claim (experiments/cli.py); never a traceback."""
  assert done.returncode in (0, 3), done.stderr
  assert 'Traceback' not in done.stderr, done.stderr


def popen(command: list[str], devices: int = 1) -> subprocess.Popen:
  return subprocess.Popen(command, cwd=REPO, env=env_with_devices(devices),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_trees_bitwise_equal(a, b) -> None:
  leaves_a, tree_a = jax.tree.flatten(a)
  leaves_b, tree_b = jax.tree.flatten(b)
  assert tree_a == tree_b
  for x, y in zip(leaves_a, leaves_b):
    if jax.dtypes.issubdtype(getattr(x, 'dtype', None), jax.dtypes.prng_key):
      x, y = jax.random.key_data(x), jax.random.key_data(y)
    x, y = np.asarray(x), np.asarray(y)
    assert x.dtype == y.dtype and x.shape == y.shape
    assert x.tobytes() == y.tobytes(), 'arrays differ'


def qr_operand_ranks(jaxpr) -> list[int]:
  """Ranks of the operands of every QR primitive in a jaxpr, sub-jaxprs included."""
  ranks = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name in ('qr', 'geqrf', 'householder_product'):
      ranks.append(eqn.invars[0].aval.ndim)
    for sub in jax.extend.core.jaxprs_in_params(eqn.params):
      ranks += qr_operand_ranks(sub)
  return ranks
