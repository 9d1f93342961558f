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


@functools.lru_cache(maxsize=8)
def _epoch_permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  perm = np.random.default_rng([seed, epoch]).permutation(num_examples)
  perm.flags.writeable = False
  return perm


def batch_indices(seed: int, step: int, num_examples: int, batch_size: int) -> np.ndarray:
  """Indices of the examples in batch `step` ([batch_size] int64)."""
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
  return np.stack([batch_indices(seed, s, num_examples, batch_size)
                   for s in range(first_step, first_step + num_steps)])
