"""A sweep's runs trained as one vmapped job (`launch.sweep --executor=vmap`).

Runs of the classification trainer that share every shape (same data, model,
batch and schedule) and differ only in their seed and their peak learning rate
are R copies of one function: the job stacks their TrainStates on a leading
axis, vmaps the trainer's own step (engine/steps.py) over them, and runs the
trainer's own host loop (engine/loop.py: chunks, NaN guard, checkpoints,
SIGTERM) once for all R. Each run keeps its identity:
- its seed gives its initialisation, its data order (batch indices are a pure
  function of (seed, step), drawn per run) and its dropout keys;
- its learning rate goes into its own Optax transform, built inside the vmap
  from the config's optimizer section with the rate as a traced number;
- its folder gets what a lone run writes (config.json, manifest.json,
  metrics.jsonl with TensorBoard events, summary.json, learning_curves.png), so
  launch.aggregate reads a vmapped sweep like any other.

One dispatch then trains every run: on a CPU, small models go several times
faster than R runs one after another (launch/bench_sweep.py measures it). The
numbers are those of the lone runs up to float rounding, since the batched
matmuls have other shapes (a test bounds the gap). The job's stacked state is
checkpointed in the sweep's `vmapped/` folder, and the same command resumes it.
"""
from __future__ import annotations

import contextlib
import json
import pathlib
import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from dl_course import plots
from dl_course.classification import trainer
from dl_course.config import to_json_dict
from dl_course.data.sampler import chunk_indices
from dl_course.engine import optimizers
from dl_course.engine.checkpoint import Checkpointer, abstract_with_sharding
from dl_course.engine.loop import MetricWindow, Schedule, StopRequest, run_loop
from dl_course.engine.mesh import DATA_AXIS, make_mesh
from dl_course.engine.records import (MetricWriter, check_same_run, read_metrics, workdir_lock,
                                      write_json, write_manifest)
from dl_course.engine.steps import make_eval_sums, make_train_step
from dl_course.errors import UserError
from dl_course.studies import Stopped

# Config keys a vmapped sweep may vary besides the seed: they change numbers, not shapes.
VMAPPABLE_KEYS = ('optimizer.learning_rate',)
is_trainer_config = trainer.is_trainer_config


def run_config(base: ml_collections.ConfigDict, seed: int,
               learning_rate: float) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict(base.to_dict())
  config.seed = seed
  config.optimizer.learning_rate = learning_rate
  return config


def train_vmapped(base: ml_collections.ConfigDict, runs: list[dict], job_dir: pathlib.Path,
                  max_chunks: int | None = None) -> list[dict] | Stopped:
  """Trains (or resumes) every run of `runs` ([{'seed', 'learning_rate',
  'workdir'}]) as one job; returns each run's summary, or Stopped."""
  if jax.process_count() > 1:
    raise UserError('--executor=vmap runs in one process; for several use --executor=slurm '
                    'with --processes_per_task')
  configs = [run_config(base, r['seed'], r['learning_rate']) for r in runs]
  for config in configs:
    trainer.validate(config)
  workdirs = [pathlib.Path(r['workdir']) for r in runs]
  job_dir = pathlib.Path(job_dir)
  for folder in (job_dir, *workdirs):
    folder.mkdir(parents=True, exist_ok=True)
  with contextlib.ExitStack() as locks:
    for folder in (job_dir, *workdirs):
      locks.enter_context(workdir_lock(folder))
    return _train(base, configs, workdirs, job_dir, max_chunks)


def _train(base, configs, workdirs, job_dir, max_chunks):
  num_runs = len(configs)
  train, scored, loss_fn, per_example_fn = trainer.load_splits_and_losses(base)
  model, _, init = trainer.build_model_and_init(base, train.info)
  placement = _placement(num_runs)
  seeds = np.asarray([c.seed for c in configs])
  rates = jax.device_put(jnp.asarray([c.optimizer.learning_rate for c in configs], jnp.float32),
                         placement)
  init_runs = jax.jit(jax.vmap(init), out_shardings=placement)

  runs_file = job_dir / 'runs.json'
  plan = [{'seed': int(c.seed), 'learning_rate': float(c.optimizer.learning_rate),
           'workdir': str(w)} for c, w in zip(configs, workdirs)]
  checkpointer = Checkpointer(job_dir / 'checkpoints', base.keep_checkpoints)
  try:
    check_same_run(job_dir, base, may_change=trainer.RESUMABLE_CHANGES)
    if runs_file.exists() and json.loads(runs_file.read_text()) != plan:
      raise UserError(f'{job_dir} holds a vmapped job of other runs ({runs_file}); '
                      'use another --workdir')
    start_step = checkpointer.good_step()
    keys = jax.vmap(jax.random.key)(jnp.asarray(seeds, jnp.uint32))
    if start_step is None:
      state = init_runs(keys)
      window = MetricWindow()
    else:
      abstract = abstract_with_sharding(jax.eval_shape(jax.vmap(init), keys), placement)
      state, loop_state = checkpointer.restore(start_step, abstract)
      window = MetricWindow.from_json(loop_state)
    write_json(job_dir / 'config.json', to_json_dict(base))
    write_json(runs_file, plan)
    writers = []
    for config, folder in zip(configs, workdirs):
      if (folder / 'checkpoints').is_dir():
        raise UserError(f'{folder} holds a run of its own (checkpoints/); finish it with '
                        '--executor=local, or use another --workdir for the vmapped sweep')
      check_same_run(folder, config, may_change=trainer.RESUMABLE_CHANGES)
      writer = MetricWriter(folder)
      writer.truncate_after(start_step or 0)
      write_json(folder / 'config.json', to_json_dict(config))
      write_manifest(folder, seed=config.seed, start_step=start_step or 0)
      writers.append(writer)

    run_chunk = _chunk_runner(model, base, loss_fn, train, seeds, rates, placement)
    evaluate = _evaluator(model, per_example_fn, scored, base.eval_batch_size, placement)
    schedule = Schedule(base.train.num_steps, base.steps_per_dispatch, base.train.eval_every,
                        base.checkpoint_every)
    with StopRequest().on_signals() as stop:
      result = run_loop(state, start_step=start_step or 0, schedule=schedule,
                        run_chunk=run_chunk, evaluate=evaluate, writer=RunWriters(writers),
                        checkpointer=checkpointer, window=window, progress=base.progress,
                        stop=stop, max_chunks=max_chunks)
  finally:
    checkpointer.close()
  if result.stopped_early:
    return Stopped(result.step, stop.reason or '--max_chunks')
  summaries = []
  for config, folder in zip(configs, workdirs):
    records = read_metrics(folder)
    summary = {**records[-1], 'step': result.step}
    write_json(folder / 'summary.json', summary)
    plots.learning_curves(records, folder / 'learning_curves.png',
                          title=f'{config.model.name} on {config.data.name}, '
                                f'lr {config.optimizer.learning_rate:g}, seed {config.seed}')
    summaries.append(summary)
  return summaries


def _placement(num_runs: int):
  """The runs' axis split over the devices when it divides by their number;
  otherwise every run on one device (a copy of each per device would only
  repeat the work)."""
  mesh = make_mesh()
  if mesh.size > 1 and num_runs % mesh.size == 0:
    return NamedSharding(mesh, P(DATA_AXIS))
  return jax.sharding.SingleDeviceSharding(jax.local_devices()[0])


def _optimizer_with_rate(optimizer: ml_collections.ConfigDict, rate):
  """The optimizer section with its learning rate a traced number (one per run)."""
  section = types.SimpleNamespace(**optimizer.to_dict())
  section.learning_rate = rate
  return section


def _chunk_runner(model, base, loss_fn, train, seeds, rates, placement):
  """run_chunk(states, first_step, k) -> (states, {name: [k, R]})."""
  x = jax.device_put(jnp.asarray(train.x), _replicated_like(placement))
  y = jax.device_put(jnp.asarray(train.y), _replicated_like(placement))
  num_steps = base.train.num_steps

  def one_run_step(state, batch, rate):
    tx = optimizers.build(_optimizer_with_rate(base.optimizer, rate), num_steps)
    return make_train_step(model.apply, tx, loss_fn)(state, batch)
  step_runs = jax.vmap(one_run_step)

  def scan(states, rates, x, y, index_KRB):
    def body(states, index_RB):
      return step_runs(states, {'x': x[index_RB], 'y': y[index_RB]}, rates)
    return jax.lax.scan(body, states, index_KRB)
  scanned = jax.jit(scan, donate_argnums=0)
  index_sharding = (NamedSharding(placement.mesh, P(None, DATA_AXIS))
                    if isinstance(placement, NamedSharding) else placement)

  def run_chunk(states, first_step, k):
    index = np.stack([chunk_indices(int(seed), first_step, k, len(train.y),
                                    base.train.batch_size) for seed in seeds], axis=1)
    return scanned(states, rates, x, y, jax.device_put(jnp.asarray(index, jnp.int32),
                                                       index_sharding))
  return run_chunk


def _evaluator(model, per_example_fn, scored: dict, batch_size: int, placement):
  """evaluate(states) -> {'test/accuracy': [R], ...}: every run's means over each
  split, summed per batch in float64 as the lone trainer's evaluator does."""
  sums = jax.jit(jax.vmap(make_eval_sums(model.apply, per_example_fn), in_axes=(0, None)))
  here = _replicated_like(placement)
  batched = {}
  for name, split in scored.items():
    size = min(batch_size, len(split.y))
    count = -(-len(split.y) // size)
    pad = count * size - len(split.y)
    mask = np.concatenate([np.ones(len(split.y), np.float32), np.zeros(pad, np.float32)])
    x = np.concatenate([split.x, np.zeros((pad, *split.x.shape[1:]), split.x.dtype)])
    y = np.concatenate([split.y, np.zeros(pad, split.y.dtype)])
    batched[name] = [jax.device_put({'x': x[i:i + size], 'y': y[i:i + size],
                                     'mask': mask[i:i + size]}, here)
                     for i in range(0, count * size, size)]

  def evaluate(states) -> dict:
    record = {}
    for name, batches in batched.items():
      totals = {}
      for part in jax.device_get([sums(states, batch) for batch in batches]):
        for key, value in part.items():
          totals[key] = totals.get(key, 0.0) + np.asarray(value, np.float64)
      count = totals.pop('count')
      for key, value in sorted(totals.items()):
        record[f'{name}/{key}'] = value / count
        if key == 'mse':
          record[f'{name}/rmse'] = np.sqrt(value / count)
    return record
  return evaluate


def _replicated_like(placement):
  if isinstance(placement, NamedSharding):
    return NamedSharding(placement.mesh, P())
  return placement


class RunWriters:
  """The loop's writer for R runs: record values of one number per run go, one
  each, to the runs' own metrics.jsonl."""

  def __init__(self, writers: list[MetricWriter]):
    self.writers = writers

  def write(self, record: dict) -> None:
    for run, writer in enumerate(self.writers):
      writer.write({key: value if np.ndim(value) == 0 else float(value[run])
                    for key, value in record.items()})
