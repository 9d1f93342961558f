"""Many processes, one run: `jax.distributed` from explicit flags or from SLURM.

Every process computes the same global batch (data order is a pure function of
seed and step) and hands over the slices its own devices hold (mesh.put_global);
process 0 alone writes records; Orbax saves each process's shards. On CPU the
processes talk through gloo.
"""
from __future__ import annotations

import os

import jax
import numpy as np
from jax.experimental import multihost_utils

from dl_course.errors import UserError


def initialize(coordinator_address: str | None, num_processes: int | None,
               process_id: int | None) -> bool:
  """Joins the run's processes; True if there is more than one. Must run before
  anything touches a JAX device."""
  given = [v is not None for v in (coordinator_address, num_processes, process_id)]
  if any(given) and not all(given):
    raise UserError('--coordinator_address, --num_processes and --process_id go together: '
                    'give all three (or none, under SLURM with several tasks)')
  slurm_tasks = int(os.environ.get('SLURM_NTASKS', '1') or 1)
  if not any(given) and slurm_tasks <= 1:
    return False
  if any(given) and not 0 <= process_id < num_processes:
    raise UserError(f'--process_id={process_id} is not allowed: 0 to {num_processes - 1}')
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  if any(given):
    jax.distributed.initialize(coordinator_address, num_processes, process_id)
  else:  # SLURM: the coordinator and the ranks come from the job's environment
    jax.distributed.initialize()
  return jax.process_count() > 1


def any_process(flag: bool) -> bool:
  """`flag` or-ed over the run's processes, the same answer in each. Decisions that
  lead to a collective (a checkpoint, a stop) must be agreed: a signal or a clock
  reaches each process at its own moment, and a process that saved or stopped
  alone would leave the others waiting for it. A collective itself: every process
  calls it at the same point."""
  if jax.process_count() == 1:
    return bool(flag)
  return bool(np.any(multihost_utils.process_allgather(np.int32(bool(flag)))))
