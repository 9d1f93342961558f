"""Data parallelism whose numbers do not depend on the device count.

The global batch of B examples is cut into a fixed number G of groups of B/G
examples. One jitted program computes one group's gradient (the mean over its
examples) and runs once per group, on the device that holds the group; a second
program adds the G gradients in group order, divides by G and applies the
optimizer. Every device runs that second program on its own copy of the state,
so the copies stay identical, as replicated parameters do under an all-reduce.
Both programs are single-device programs with shapes fixed by (B, G), whatever
the device count D (D must divide G), so one, two or four devices give
bit-identical parameters and metrics.

Why not one jit over the mesh: XLA reduces a sharded batch in an order that
depends on D, and any program compiled for several devices passes through XLA's
SPMD pipeline, whose algebraic simplifier rewrites Adam's elementwise update
differently from the single-device pipeline (engine/grid.py measures both).
The price is two dispatches per group and step and one copy of each group's
gradient to each other device: this is the exact mode (`dispatch='groups'`), not
the fast one.

Over several processes each process computes the groups of its own devices, and
the group gradients are then all-gathered (a copy: no arithmetic, so no order to
depend on) before every device adds them in group order. 2 processes × 2 devices
give the bits of 1 process × 4, and of 1 × 1.

Dropout keys are fold_in(fold_in(key, step), group); batch statistics (if the
model keeps any) are averaged over the groups in order ("ghost" batch norm).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding, PartitionSpec as P

from dl_course.data.sampler import batch_indices
from dl_course.engine.state import TrainState, apply_model
from dl_course.errors import ConfigError


def check_groups(num_groups: int, batch_size: int, mesh) -> None:
  """One-line errors for a group count the batch or the devices cannot take."""
  if num_groups < 1 or batch_size % num_groups:
    raise ConfigError('batch_groups', num_groups,
                      f'a positive divisor of batch_size ({batch_size})')
  if num_groups % mesh.size:
    raise ConfigError('batch_groups', num_groups,
                      f'a multiple of the device count ({mesh.size}) so every device '
                      f'holds whole groups')
  per_process = {d.process_index for d in mesh.devices.flat}
  local_counts = {sum(d.process_index == p for d in mesh.devices.flat) for p in per_process}
  if len(local_counts) > 1:
    raise ConfigError('dispatch', 'groups',
                      'scan or loop: the exact mode needs the same number of devices in every '
                      f'process (here {sorted(local_counts)})')


def make_group_gradient(apply_fn, loss_fn):
  """(state, group batch, group index) -> (grads, metrics, model_state) of that group."""

  def group_gradient(state: TrainState, batch, group):
    key = jax.random.fold_in(jax.random.fold_in(state.key, state.step), group)

    def loss(params):
      outputs, model_state = apply_model(apply_fn, params, state.model_state, batch['x'],
                                         train=True, key=key)
      value, metrics = loss_fn(outputs, batch)
      return value, (metrics, model_state)

    grads, (metrics, model_state) = jax.grad(loss, has_aux=True)(state.params)
    return grads, metrics, model_state
  return group_gradient


def make_group_update(tx: optax.GradientTransformation):
  """(state, [per-group (grads, metrics, model_state)]) -> (state, metrics): the
  group means added in group order, then one optimizer update."""

  def mean_in_order(trees):
    total = functools.reduce(lambda a, b: jax.tree.map(jnp.add, a, b), trees)
    return jax.tree.map(lambda t: t / len(trees), total)

  def update(state: TrainState, per_group):
    grads = mean_in_order([g for g, _, _ in per_group])
    metrics = mean_in_order([m for _, m, _ in per_group])
    model_state = mean_in_order([s for _, _, s in per_group]) if state.model_state else {}
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {**metrics, 'grad_norm': optax.global_norm(grads),
               'param_norm': optax.global_norm(params)}
    return state.replace(step=state.step + 1, params=params, opt_state=opt_state,
                         model_state=model_state), metrics
  return update


def make_grouped_chunk_runner(apply_fn, tx, loss_fn, *, mesh, x: np.ndarray, y: np.ndarray,
                              seed: int, batch_size: int, num_groups: int):
  """run_chunk(state, first_step, k) -> (state, {name: [k] metrics}) for the exact mode;
  `state` is replicated over the mesh on entry and on exit."""
  check_groups(num_groups, batch_size, mesh)
  devices = list(mesh.devices.flat)
  per_device = num_groups // len(devices)
  group_size = batch_size // num_groups
  owner = [devices[group // per_device] for group in range(num_groups)]
  local_devices = [d for d in devices if d.process_index == jax.process_index()]
  local_groups = [g for g in range(num_groups) if owner[g].process_index == jax.process_index()]
  gather = (functools.partial(_gather_groups, owner=owner) if jax.process_count() > 1
            else lambda per_group: per_group)
  gradient = jax.jit(make_group_gradient(apply_fn, loss_fn))
  update = jax.jit(make_group_update(tx), donate_argnums=0)
  num_examples = len(y)

  def run_chunk(state, first_step, k):
    copies = dict(zip(local_devices, replica_copies(state, local_devices)))
    metrics = []
    for step in range(first_step, first_step + k):
      index = batch_indices(seed, step, num_examples, batch_size)
      per_group = []
      for group in local_groups:
        rows = index[group * group_size:(group + 1) * group_size]
        batch = jax.device_put({'x': x[rows], 'y': y[rows]}, owner[group])
        per_group.append(gradient(copies[owner[group]], batch, group))
      per_group = gather(per_group)
      outputs = {device: update(copy, jax.device_put(per_group, device))
                 for device, copy in copies.items()}
      copies = {device: state for device, (state, _) in outputs.items()}
      metrics.append(outputs[local_devices[0]][1])
    stacked = jax.tree.map(lambda *v: np.stack(v), *jax.device_get(metrics))
    return replicated_from_copies([copies[d] for d in local_devices], mesh), stacked
  return run_chunk


def _gather_groups(local_per_group: list, *, owner: list) -> list:
  """Every group's (grads, metrics, model_state), in group order, from the groups
  each process computed: one all-gather over the processes (exact: a copy)."""
  local = jax.tree.map(lambda *v: np.stack(v), *jax.device_get(local_per_group))
  gathered = multihost_utils.process_allgather(local)  # [processes, local groups, ...]
  position, seen = [], {}
  for device in owner:
    process = device.process_index
    position.append((process, seen.get(process, 0)))
    seen[process] = seen.get(process, 0) + 1
  return [jax.tree.map(lambda leaf, p=p, i=i: leaf[p, i], gathered) for p, i in position]


def replica_copies(tree, devices) -> list:
  """One single-device pytree per device from a replicated pytree (no copies)."""
  def per_device(leaf):
    by_device = {s.device: s.data for s in leaf.addressable_shards}
    return [by_device[d] if d in by_device else jax.device_put(leaf, d) for d in devices]
  split = jax.tree.map(per_device, tree)
  return [jax.tree.map(lambda parts, i=i: parts[i], split,
                       is_leaf=lambda v: isinstance(v, list)) for i in range(len(devices))]


def replicated_from_copies(copies: list, mesh) -> object:
  """Identical per-device pytrees as one pytree replicated over the mesh."""
  sharding = NamedSharding(mesh, P())
  return jax.tree.map(
      lambda *parts: jax.make_array_from_single_device_arrays(parts[0].shape, sharding,
                                                               list(parts)), *copies)


def _first_local_device(mesh):
  return next(d for d in mesh.devices.flat if d.process_index == jax.process_index())


def first_device_mesh(mesh) -> jax.sharding.Mesh:
  """This process's first device of the mesh alone, for evaluations whose sums
  must not depend on the device count (every process computes the same sums)."""
  return jax.sharding.Mesh(np.asarray([_first_local_device(mesh)]), mesh.axis_names)


def on_first_device(evaluate, mesh):
  """evaluate(state) run on this process's first device's copy of a replicated state."""
  first = [_first_local_device(mesh)]
  return lambda state: evaluate(replica_copies(state, first)[0])
