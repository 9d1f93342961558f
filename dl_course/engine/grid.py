"""Training a grid of runs that share shapes as one vmapped, jitted function.

Runs differ in their initialisation key, labels and/or learning rate; the grid
axis R leads every leaf of the stacked TrainState. The learning rate lives in
the optimizer state (`optax.inject_hyperparams`), so runs with different rates
are the same function of different data. The input batch is shared by every
run: batch indices depend on (seed, step) only, as everywhere else.

Device-count invariance. The runs are computed in groups of `group_size` (one
vmap each; by default one group of all R runs), the groups one after another.
With several devices, whole groups are spread over the mesh's devices when their
number divides by the device count, and otherwise one device computes them all.
Each device runs a single-device program over its own groups (no communication)
and the blocks are assembled into one array sharded on `data`, without copies.
So a grid gives bit-identical numbers on 1, 2 or 4 devices. Two other ways were
measured not to: vmapping R/D runs per device changes the batched matmuls'
shapes and with them XLA:CPU's blocking (train loss 0.169744 vs 0.169911 after
100 steps, 1 vs 4 devices, AMD EPYC); and any program compiled for several
devices, even a fully replicated one or a shard_map, goes through XLA's SPMD
pipeline, whose algebraic simplifier rewrites the same elementwise maths
differently from the single-device pipeline (the dots are identical; Adam's
update keeps 13 divides instead of 9), so the last bits differ from step 1.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec as P

from dl_course.data.sampler import chunk_indices
from dl_course.engine.guard import check_finite
from dl_course.engine.mesh import DATA_AXIS, batch_sharding, make_mesh, replicated
from dl_course.engine.state import init_each, init_train_state
from dl_course.engine.steps import classification_loss, make_train_step


def sgd_with_rate(momentum: float = 0.0) -> optax.GradientTransformation:
  """SGD whose learning rate is a per-run entry of its state."""
  return optax.inject_hyperparams(optax.sgd)(learning_rate=0.0, momentum=momentum or None)


def adam_with_rate() -> optax.GradientTransformation:
  return optax.inject_hyperparams(optax.adam)(learning_rate=0.0)


def init_grid(model, tx, sample_x, keys_R: jax.Array, learning_rates_R,
              group_size: int | None = None) -> object:
  """Stacked TrainStates, one per key, with per-run learning rates, placed for
  training in groups of `group_size` runs (None: one group)."""
  states = init_each(lambda key: init_train_state(model, tx, sample_x, key), keys_R)
  rates = jnp.asarray(learning_rates_R, jnp.float32)
  opt_state = states.opt_state
  opt_state.hyperparams['learning_rate'] = rates
  states = states.replace(opt_state=opt_state)
  mesh = make_mesh()
  if groups_are_spread(len(keys_R), group_size, mesh):
    return jax.device_put(states, batch_sharding(mesh))
  return jax.device_put(states, jax.local_devices()[0])


def shard_runs(tree):
  """Places a pytree with a leading run axis R on the mesh: sharded along R if
  R divides by the device count, replicated otherwise."""
  mesh = make_mesh()
  runs = jax.tree.leaves(tree)[0].shape[0]
  sharding = batch_sharding(mesh) if runs % mesh.size == 0 else replicated(mesh)
  return jax.device_put(tree, sharding)


def groups_are_spread(runs: int, group_size: int | None, mesh) -> bool:
  """Whether whole groups of runs go to different devices (else one device runs
  them all). In a run of several processes every process computes every group on
  its own first device: the same single-device program as in one process, so the
  numbers are the same bit for bit, and every result is on hand to every process
  (process 0 writes the records). That buys no speed over one process."""
  size = group_size or runs
  if size < 1 or runs % size:
    raise ValueError(f'group_size={group_size} must divide the number of runs ({runs})')
  groups = runs // size
  return mesh.size > 1 and groups % mesh.size == 0 and jax.process_count() == 1


def make_grid_chunk(model, tx, loss_fn=classification_loss, adversarial_epsilon=None,
                    group_size: int | None = None):
  """(states [R], x [K, B, ...], y [R, K, B]) -> (states, metrics {name: [K, R]}),
  computed in groups of `group_size` runs (None: all R in one group)."""
  step = jax.vmap(make_train_step(model.apply, tx, loss_fn, adversarial_epsilon),
                  in_axes=(0, {'x': None, 'y': 0}))

  def train_group(states_G, x_KB, y_GKB):
    def one(states, batch):
      return step(states, {'x': batch[0], 'y': batch[1]})
    return jax.lax.scan(one, states_G, (x_KB, jnp.swapaxes(y_GKB, 0, 1)))

  def train_groups(states_R, x_KB, y_RKB):
    runs = y_RKB.shape[0]
    size = group_size or runs
    if size == runs:
      return train_group(states_R, x_KB, y_RKB)
    def split(a):
      return a.reshape(runs // size, size, *a.shape[1:])
    states_NG, metrics_NKG = jax.lax.map(
        lambda group: train_group(group[0], x_KB, group[1]),
        (jax.tree.map(split, states_R), split(y_RKB)))
    states_R = jax.tree.map(lambda a: a.reshape(runs, *a.shape[2:]), states_NG)
    metrics_KR = jax.tree.map(
        lambda m: jnp.moveaxis(m, 0, 1).reshape(m.shape[1], runs), metrics_NKG)
    return states_R, metrics_KR

  jitted = jax.jit(train_groups)  # one single-device program per device it runs on

  def chunk(states, x_KB, y_RKB):
    mesh = make_mesh()
    devices = list(mesh.devices.flat)
    if not groups_are_spread(y_RKB.shape[0], group_size, mesh):
      here = jax.local_devices()[0]
      return jitted(jax.device_put(states, here), jax.device_put(x_KB, here),
                    jax.device_put(y_RKB, here))
    outs = [jitted(state_block, jax.device_put(x_KB, device), y_block)
            for device, state_block, y_block in zip(
                devices, _device_blocks(states, devices), _device_blocks(y_RKB, devices))]
    new_states = _assemble([o[0] for o in outs], mesh, P(DATA_AXIS))
    metrics = _assemble([o[1] for o in outs], mesh, P(None, DATA_AXIS))
    return new_states, metrics
  return chunk


def _device_blocks(tree, devices) -> list:
  """The leading-axis blocks of `tree` for each device, in device order (a leaf
  already sharded that way gives its shards without a copy)."""
  count = len(devices)

  def blocks(leaf):
    sharding = getattr(leaf, 'sharding', None)
    if isinstance(sharding, jax.sharding.NamedSharding) and \
        sharding.spec == P(DATA_AXIS) and len(leaf.addressable_shards) == count:
      by_device = {s.device: s.data for s in leaf.addressable_shards}
      return [by_device[d] for d in devices]
    size = leaf.shape[0] // count
    return [jax.device_put(leaf[i * size:(i + 1) * size], d) for i, d in enumerate(devices)]

  per_leaf = jax.tree.map(blocks, tree)
  return [jax.tree.map(lambda b, i=i: b[i], per_leaf, is_leaf=lambda x: isinstance(x, list))
          for i in range(count)]


def _assemble(blocks: list, mesh, spec) -> object:
  """Per-device blocks (pytrees) as one pytree of arrays sharded by `spec`."""
  axis = list(spec).index(DATA_AXIS)
  sharding = jax.sharding.NamedSharding(mesh, spec)

  def join(*parts):
    shape = list(parts[0].shape)
    shape[axis] *= len(parts)
    return jax.make_array_from_single_device_arrays(tuple(shape), sharding, list(parts))
  return jax.tree.map(join, *blocks)


def make_grid_accuracy(model):
  """(params [R], x [N, ...], y [R, N] or [N]) -> accuracy per run [R]."""
  @jax.jit
  def accuracy(params, x, y):
    logits_RNC = jax.vmap(lambda p: model.apply({'params': p}, x))(params)
    y = jnp.broadcast_to(y, logits_RNC.shape[:2])
    return jnp.mean(jnp.argmax(logits_RNC, -1) == y, axis=1)
  return accuracy


def chunk_batches(seed: int, start: int, num_steps: int, x: np.ndarray, y_RN: np.ndarray,
                  batch_size: int) -> tuple[np.ndarray, np.ndarray]:
  """The inputs [K, B, ...] and per-run labels [R, K, B] of steps start..start+K-1."""
  index_KB = chunk_indices(seed, start, num_steps, len(x), batch_size)
  return x[index_KB], y_RN[:, index_KB]


def train_grid(chunk, states, x: np.ndarray, labels_RN: np.ndarray, *, seed: int,
               batch_size: int, num_steps: int, chunk_steps: int, first_step: int = 0,
               after_chunk=None, checkpoints=None, carry: dict | None = None):
  """The host loop of every grid study: steps [first_step, num_steps) in chunks
  of `chunk_steps` (the last may be shorter), batches from (seed, step), the NaN
  guard on each chunk's metrics, then after_chunk(states, end_step, metrics),
  which stops the loop early by returning True. Returns (states, end step).

  With `checkpoints` (a stage's, engine/progress.py) chunk ends may be
  checkpointed, with `carry`, the host-side values after_chunk accumulates (a
  JSON dict, restored in place), and a rerun continues from the latest one."""
  step, finished = first_step, False
  if checkpoints is not None:
    states, restored_step, kept = checkpoints.restore(states)
    if kept is not None:
      step, finished = restored_step, kept['finished']
      if carry is not None:
        carry.clear()
        carry.update(kept['carry'])
  while step < num_steps and not finished:
    length = min(chunk_steps, num_steps - step)
    xs, ys = chunk_batches(seed, step, length, x, labels_RN, batch_size)
    states, metrics = chunk(states, xs, ys)
    check_finite(jax.device_get(metrics), first_step=step, prefix='train/',  # [K, R]
                 last_good_step=checkpoints and checkpoints.last_good_step)
    step += length
    finished = bool(after_chunk is not None and after_chunk(states, step, metrics))
    if checkpoints is not None:
      checkpoints.chunk_done(step, states, {'finished': finished, 'carry': carry},
                             last=finished or step >= num_steps)
  return states, step
