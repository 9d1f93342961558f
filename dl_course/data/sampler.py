"""Batch indices as a pure function of (seed, step).

The example stream is the concatenation of per-epoch permutations, epoch e
shuffled by a generator seeded with (seed, e). Batch `step` is positions
[step * B, (step + 1) * B) of that stream, so any step's batch can be computed
without replaying earlier ones: a resumed run sees exactly the data an
uninterrupted run would.
"""
from __future__ import annotations

import functools

import numpy as np

from dl_course.config import check_fits_in_memory
from dl_course.errors import SizeError


@functools.lru_cache(maxsize=8)
def _epoch_permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  perm = np.random.default_rng([seed, epoch]).permutation(num_examples)
  perm.flags.writeable = False
  return perm


def check_batch_size(batch_size: int, num_examples: int) -> None:
  if batch_size > num_examples:
    raise SizeError(batch_size, f'at most the {num_examples:,} training examples')


def batch_indices(seed: int, step: int, num_examples: int, batch_size: int) -> np.ndarray:
  """Indices of the examples in batch `step` ([batch_size] int64)."""
  check_batch_size(batch_size, num_examples)
  positions = np.arange(step * batch_size, (step + 1) * batch_size, dtype=np.int64)
  epochs, offsets = np.divmod(positions, num_examples)
  out = np.empty(batch_size, np.int64)
  for epoch in np.unique(epochs):
    where = epochs == epoch
    out[where] = _epoch_permutation(seed, int(epoch), num_examples)[offsets[where]]
  return out


def chunk_indices(seed: int, first_step: int, num_steps: int, num_examples: int,
                  batch_size: int) -> np.ndarray:
  """Indices for steps first_step .. first_step + num_steps - 1 ([K, B])."""
  check_batch_size(batch_size, num_examples)
  check_fits_in_memory(f'the batch indices of {num_steps:,} steps of {batch_size:,} examples',
                       8 * num_steps * batch_size, 'the number of steps or the batch size')
  return np.stack([batch_indices(seed, s, num_examples, batch_size)
                   for s in range(first_step, first_step + num_steps)])
