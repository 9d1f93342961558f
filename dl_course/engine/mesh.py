"""One device mesh with a `data` axis: batches sharded on it, state replicated.

The global batch size comes from the config; each device gets batch / devices
examples, so the same config gives the same updates on 1 or N devices (up to
the order of floating-point sums).
"""
from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding, PartitionSpec as P

from dl_course.errors import ConfigError

DATA_AXIS = 'data'


def make_mesh() -> jax.sharding.Mesh:
  # Auto axes: XLA propagates shardings from the inputs. (jax 0.10's default,
  # Explicit, types every intermediate, which Flax's dropout masks do not follow.)
  return jax.make_mesh((jax.device_count(),), (DATA_AXIS,),
                       axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh, batch_axis: int = 0) -> NamedSharding:
  """Shards axis `batch_axis` over the devices (axis 1 for [K, B, ...] chunks)."""
  return NamedSharding(mesh, P(*([None] * batch_axis), DATA_AXIS))


def check_divisible(key: str, batch_size: int, mesh) -> None:
  if batch_size % mesh.size:
    raise ConfigError(key, batch_size,
                      f'a multiple of the device count ({mesh.size}) so every device '
                      f'gets an equal share')


def put_global(tree, sharding: NamedSharding):
  """Places host arrays holding the *global* batch onto the mesh.

  Works across processes too: every process computes the same global batch (data
  order is a pure function of seed and step) and each supplies only the slices
  its own devices hold.
  """
  def put(array):
    array = np.asarray(array)
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])
  return jax.tree.map(put, tree)


def to_host(tree):
  """NumPy copies of a pytree of arrays. An array sharded over devices of several
  processes is gathered whole on each (a collective: every process calls this at
  the same point, as every process runs the same program)."""
  def get(array):
    if isinstance(array, jax.Array) and not array.is_fully_addressable:
      return np.asarray(multihost_utils.process_allgather(array, tiled=True))
    return np.asarray(array)
  return jax.tree.map(get, tree)
