"""Supervised classification (and regression on your own data), read top to
bottom in stages:
config -> mesh -> data -> model -> optimizer -> sharded init or resume ->
step -> evaluator -> loop -> plots.

`train_and_evaluate(config, workdir)` is the whole study; experiments/classify.py
only turns flags into its arguments.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from dl_course import data, models
from dl_course.claims import FINDING, Claim, at_least, at_most
from dl_course.config import check_choice, check_range, to_json_dict
from dl_course.engine import optimizers
from dl_course.engine.checkpoint import Checkpointer, abstract_with_sharding
from dl_course.engine.feeding import DISPATCH_MODES, make_chunk_runner, make_evaluator
from dl_course.engine.groups import (check_groups, first_device_mesh, make_grouped_chunk_runner,
                                     on_first_device)
from dl_course.engine.loop import MetricWindow, Schedule, StopRequest, run_loop
from dl_course.engine.mesh import check_divisible, make_mesh, replicated
from dl_course.engine.records import (MetricWriter, check_same_run, is_writer, read_metrics,
                                      write_json, write_manifest)
from dl_course.engine.state import init_train_state
from dl_course.engine.steps import (REGRESSION_LOSSES, REGRESSION_OUTPUTS, classification_loss,
                                    classification_per_example, make_eval_sums,
                                    make_regression_fns, make_train_step)
from dl_course.errors import ConfigError, StorageError, UserError
from dl_course.studies import Stopped
from dl_course import plots

# Keys that may change between a run and its resumption: they do not change results.
RESUMABLE_CHANGES = frozenset({'progress'})


def default_config() -> ml_collections.ConfigDict:
  """Defaults shared by every classification config; config files override them."""
  config = ml_collections.ConfigDict()
  config.study = 'classification'
  config.seed = 0
  # validation_fraction > 0 holds that share of the training rows out (a fixed,
  # seed-independent draw: data.hold_out) and logs val/ metrics beside test/.
  # The other data keys read your own files (csv, npz, image_folder: data/own.py).
  # task='regression' (csv and npz) reads the label column as real targets; the
  # model then fits them standardised, with loss 'mse' or 'gaussian_nll' (a mean
  # and a variance head), and reports RMSE (and NLL) in the target's own units.
  config.data = ml_collections.ConfigDict({
      'name': 'mnist1d', 'dir': '', 'task': 'classification', 'validation_fraction': 0.0,
      'label_column': 'label', 'feature_columns': (), 'image_column': '', 'image_shape': (),
      'classes': (), 'test_fraction': 0.2})
  config.loss = 'cross_entropy'
  config.model = ml_collections.ConfigDict({'name': 'mlp'})
  config.optimizer = ml_collections.ConfigDict(dict(
      name='adam', learning_rate=1e-2, momentum=0.0, nesterov=False, b1=0.9, b2=0.999,
      weight_decay=0.0, schedule='constant', warmup_steps=0, grad_clip_norm=0.0))
  config.train = ml_collections.ConfigDict({'batch_size': 100, 'num_steps': 6000,
                                             'eval_every': 500})
  config.steps_per_dispatch = 100
  config.dispatch = 'scan'
  # With dispatch='groups' (the exact mode, engine/groups.py) the batch is cut into
  # this many groups; results are then bit-identical on any device count dividing it.
  config.batch_groups = 4
  config.eval_batch_size = 1000
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.progress = True
  # The run's claim: test accuracy at least this (0: no claim), and the published
  # figure with its source, shown beside it ('-' when there is none).
  # A regression config's claim section holds max_test_rmse instead (0: no claim).
  config.claim = ml_collections.ConfigDict({'min_test_accuracy': 0.0, 'published': '-'})
  return config


def is_regression(config) -> bool:
  return config.data.get('task', 'classification') == 'regression'


def _validate_task(config) -> None:
  check_choice(config, 'data.task', ('classification', 'regression'))
  if is_regression(config):
    if config.data.name not in ('csv', 'npz') and not config.data.name.startswith('uci:'):
      raise ConfigError('data.task', 'regression',
                        f'classification with data.name={config.data.name!r} (regression reads '
                        'csv, npz or uci:<name>)')
    check_choice(config, 'loss', REGRESSION_LOSSES)
    if config.claim.get('min_test_accuracy'):
      raise ConfigError('claim.min_test_accuracy', config.claim.min_test_accuracy,
                        '0 in a regression (its claim is claim.max_test_rmse)')
  else:
    check_choice(config, 'loss', ('cross_entropy',))
    if config.data.name.startswith('uci:'):
      raise ConfigError('data.task', 'classification',
                        f'regression with data.name={config.data.name!r} (its targets are real)')


def validate(config) -> None:
  """Raises ConfigError naming the first bad key; runs before any work."""
  check_range(config, 'seed', 0, integer=True)
  if not isinstance(config.data.name, str) or not config.data.name:
    raise UserError(
        f'config.data.name={config.data.name!r} must be one of {", ".join(data.names())}')
  for key in ('train.batch_size', 'train.num_steps', 'steps_per_dispatch', 'train.eval_every',
              'eval_batch_size', 'checkpoint_every', 'keep_checkpoints'):
    check_range(config, key, 1, integer=True)
  check_choice(config, 'dispatch', (*DISPATCH_MODES, 'groups'))
  check_range(config, 'batch_groups', 1, integer=True)
  check_range(config, 'data.validation_fraction', 0, 0.5)
  check_range(config, 'data.test_fraction', 0, 1, low_open=True)
  _validate_task(config)
  optimizers.validate(config)


def build_model_and_init(config, info):
  """The model, optimizer and init(key) -> TrainState of a config (dataset `info`)."""
  models.check_input_shape(config.model.name, info.input_shape, info.name)
  outputs = REGRESSION_OUTPUTS[config.loss] if is_regression(config) else info.num_classes
  model = models.build(config.model, outputs)
  tx = optimizers.build(config.optimizer, config.train.num_steps)

  def init(key):
    return init_train_state(model, tx, jnp.zeros((1, *info.input_shape)), key)
  return model, tx, init


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: pathlib.Path,
                       max_chunks: int | None = None) -> dict:
  """Trains (or resumes) the run in `workdir`; returns the last logged record.
  `max_chunks` stops (with a checkpoint) after that many dispatched chunks."""
  workdir = pathlib.Path(workdir)
  validate(config)
  mesh = make_mesh()
  check_divisible('train.batch_size', config.train.batch_size, mesh)
  if config.dispatch == 'groups':
    check_groups(config.batch_groups, config.train.batch_size, mesh)

  train, scored, loss_fn, per_example_fn = load_splits_and_losses(config)
  model, tx, init = build_model_and_init(config, train.info)

  checkpointer = Checkpointer(workdir / 'checkpoints', config.keep_checkpoints)
  disk_refused = False
  try:
    check_same_run(workdir, config, may_change=RESUMABLE_CHANGES)
    start_step = checkpointer.good_step()
    if start_step is None:
      state = jax.jit(init, out_shardings=replicated(mesh))(jax.random.key(config.seed))
      window = MetricWindow()
    else:
      abstract = abstract_with_sharding(jax.eval_shape(init, jax.random.key(config.seed)),
                                        replicated(mesh))
      state, loop_state = checkpointer.restore(start_step, abstract)
      window = MetricWindow.from_json(loop_state)
    writer = MetricWriter(workdir)
    writer.truncate_after(start_step or 0)
    if is_writer():
      write_json(workdir / 'config.json', to_json_dict(config))
    write_manifest(workdir, seed=config.seed, start_step=start_step or 0)

    eval_sums = make_eval_sums(model.apply, per_example_fn)
    if config.dispatch == 'groups':
      run_chunk = make_grouped_chunk_runner(
          model.apply, tx, loss_fn, mesh=mesh, x=train.x, y=train.y,
          seed=config.seed, batch_size=config.train.batch_size, num_groups=config.batch_groups)
      evaluate = on_first_device(_split_evaluator(
          eval_sums, first_device_mesh(mesh), scored, config.eval_batch_size), mesh)
    else:
      run_chunk = make_chunk_runner(
          make_train_step(model.apply, tx, loss_fn), mode=config.dispatch,
          mesh=mesh, x=train.x, y=train.y, seed=config.seed, batch_size=config.train.batch_size)
      evaluate = _split_evaluator(eval_sums, mesh, scored, config.eval_batch_size)
    schedule = Schedule(config.train.num_steps, config.steps_per_dispatch, config.train.eval_every,
                        config.checkpoint_every)
    with StopRequest().on_signals() as stop:
      result = run_loop(state, start_step=start_step or 0, schedule=schedule,
                        run_chunk=run_chunk, evaluate=evaluate, writer=writer,
                        checkpointer=checkpointer, window=window, progress=config.progress,
                        stop=stop, max_chunks=max_chunks)
  except StorageError:
    disk_refused = True
    raise  # no figure on a full disk: the error names what could not be written
  finally:
    checkpointer.close()
    if is_writer() and (workdir / 'metrics.jsonl').exists() and not disk_refused:
      plots.learning_curves(read_metrics(workdir), workdir / 'learning_curves.png',
                            title=f'{config.model.name} on {config.data.name}')
  last = result.last_record or (read_metrics(workdir) or [{}])[-1]
  return {**last, 'step': result.step, 'stopped_early': result.stopped_early,
          'stopped_by': stop.reason or '--max_chunks'}


def is_trainer_config(config) -> bool:
  """Whether a config runs this trainer (the keys only its family has)."""
  return 'dispatch' in config and 'optimizer' in config


def load_splits_and_losses(config):
  """(train, {'test': ..., 'val': ...}, loss_fn, per_example_fn) of a config: the
  held-out validation rows if asked for, and a regression's targets standardised."""
  train, test = data.from_config(config.data, 'train'), data.from_config(config.data, 'test')
  scored = {'test': test}
  if config.data.validation_fraction:
    train, scored['val'] = data.hold_out(train, config.data.validation_fraction)
  if is_regression(config):
    train, scored, target_scale = standardise_targets(train, scored)
    return (train, scored) + make_regression_fns(config.loss, target_scale)
  return train, scored, classification_loss, classification_per_example


def target_statistics(train) -> tuple[float, float]:
  """(mean, standard deviation) of a regression's training targets."""
  return float(np.mean(train.y, dtype=np.float64)), float(np.std(train.y, dtype=np.float64))


def standardise_targets(train, scored: dict):
  """(train, scored, scale): every split's real targets as (y - mean) / scale, with
  the training rows' mean and standard deviation `scale` (target_statistics)."""
  mean, scale = target_statistics(train)

  def standardised(split):
    return data.Split(x=split.x, y=((split.y - mean) / scale).astype(np.float32), info=split.info)
  return standardised(train), {k: standardised(v) for k, v in scored.items()}, scale


def _split_evaluator(eval_sums, mesh, scored: dict, batch_size: int):
  """evaluate(state) -> {'test/accuracy': ..., 'val/accuracy': ...} over each split
  (a regression's mean squared error also as its root, 'rmse')."""
  evaluators = {name: make_evaluator(eval_sums, mesh=mesh, x=split.x, y=split.y,
                                     batch_size=batch_size)
                for name, split in scored.items()}

  def evaluate(state):
    record = {}
    for name, evaluate_split in evaluators.items():
      for key, value in evaluate_split(state).items():
        record[f'{name}/{key}'] = value
        if key == 'mse':
          record[f'{name}/rmse'] = float(np.sqrt(value))
    return record
  return evaluate


def run(config: ml_collections.ConfigDict, workdir: pathlib.Path,
        max_chunks: int | None = None) -> dict | Stopped:
  """The classification study: trains, writes summary.json (the last record);
  Stopped when stopped before the end (SIGTERM or max_chunks: rerun to resume)."""
  result = train_and_evaluate(config, workdir, max_chunks)
  if result['stopped_early']:
    return Stopped(result['step'], result['stopped_by'])
  summary = {k: v for k, v in result.items() if k not in ('stopped_early', 'stopped_by')}
  if is_writer():
    write_json(pathlib.Path(workdir) / 'summary.json', summary)
  return summary


def claims(config, summary: dict) -> list[Claim]:
  """Test accuracy at least config.claim.min_test_accuracy (no claim when 0), or for
  a regression test RMSE at most config.claim.max_test_rmse; with several seeds
  (`num_seeds` in the summary) the mean."""
  if is_regression(config):
    if not config.claim.get('max_test_rmse'):
      return []
    return [at_most(f'{config.data.name} {config.model.name} test RMSE ({config.loss})',
                    summary['test/rmse'], config.claim.max_test_rmse, digits=3, fmt='g',
                    published=config.claim.published, kind=FINDING)]
  if not config.claim.min_test_accuracy:
    return []
  seeds = summary.get('num_seeds', 1)
  label = f'{config.data.name} {config.model.name} test accuracy'
  if seeds > 1:
    accuracies = [s['test/accuracy'] for s in summary['per_seed']]
    error = 100 * np.std(accuracies, ddof=1) / np.sqrt(seeds)
    label += f' (mean of {seeds} seeds, s.e. {error:.1f} pts)'
  return [at_least(label, summary['test/accuracy'], config.claim.min_test_accuracy, unit=' %',
                   scale=100, published=config.claim.published, kind=FINDING)]
