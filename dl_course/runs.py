"""Getting a finished (or stopped) run back from its workdir: the one way to put
a trained model into a notebook or an evaluation script.

  run = dl_course.load_run('runs/mlp')
  logits = run.model.apply({'params': run.state.params}, x)

Studies that keep a trained state are those that checkpoint it: classification
(every MNIST-1D config and your own) and RL (the runner state of every seed)
give `state`; the resumable staged studies (double descent, random labels,
batch size / learning rate, edge of stability, VAE, Glow, M2, DCGAN) give one
`Stage` per trained model instead:

  run = dl_course.load_run('runs/double_descent')
  stage = run.stages['width_47']        # params with a leading seed axis
  logits = stage.model.apply({'params': jax.tree.map(lambda p: p[0], stage.params)}, x)
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import jax
import ml_collections

from dl_course.engine.checkpoint import Checkpointer, abstract_with_sharding, read_checkpoint
from dl_course.engine.records import read_metrics
from dl_course.errors import UserError


@dataclasses.dataclass
class Stage:
  """One trained model of a staged study: its latest checkpoint, on the host."""
  name: str
  step: int
  state: dict  # the stage's training state, as saved (params, optimizer state, ...)
  params: Any  # state['params']; grids and seeds have a leading run axis
  model: Any  # the Linen module, or None where the study names none for the stage


@dataclasses.dataclass
class Run:
  config: ml_collections.ConfigDict
  model: Any  # the Linen module whose params `state` holds (None for a staged study)
  state: Any  # TrainState (classification) or the runner state with a seed axis (RL)
  step: int | None  # training steps (RL: updates) the state has taken
  metrics: list[dict]
  summary: dict | None  # None while the run is unfinished
  stages: dict[str, Stage] = dataclasses.field(default_factory=dict)


def load_run(workdir) -> Run:
  """Config, model, trained state (latest checkpoint, on one device), metrics and
  summary of the run in `workdir`; a one-line UserError if there is none."""
  workdir = pathlib.Path(workdir)
  path = workdir / 'config.json'
  if not path.exists():
    raise UserError(f'{workdir} holds no run (no config.json)')
  config = ml_collections.ConfigDict(json.loads(path.read_text()))
  if 'algorithm' in config:
    model, abstract = _rl_abstract(config)
  elif _runs_the_trainer(config):
    model, abstract = _classification_abstract(config)
  else:
    stages = _read_stages(workdir, config)
    if not stages:
      raise UserError(f'{workdir}: study {config.get("study")!r} keeps no trained state, '
                      'only summary.json, metrics.jsonl and its figures')
    return Run(config=config, model=None, state=None, step=None,
               metrics=read_metrics(workdir), summary=_summary(workdir), stages=stages)
  checkpointer = Checkpointer(workdir / 'checkpoints', keep=1_000_000)
  try:
    step = checkpointer.good_step(set_aside=False)
    if step is None:
      raise UserError(f'{workdir} has no checkpoint yet')
    here = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    state, _ = checkpointer.restore(step, abstract_with_sharding(abstract, here))
  finally:
    checkpointer.close()
  return Run(config=config, model=model, state=state, step=step, metrics=read_metrics(workdir),
             summary=_summary(workdir))


def _summary(workdir: pathlib.Path) -> dict | None:
  path = workdir / 'summary.json'
  return json.loads(path.read_text()) if path.exists() else None


def _read_stages(workdir: pathlib.Path, config) -> dict[str, Stage]:
  """Every stage checkpoint under checkpoints/<stage>/ (engine/progress.py)."""
  # The registry maps config.study to its record; nothing else in the library
  # reads experiments/, and this import is deferred so it never has to.
  from experiments.registry import STUDIES  # pylint: disable=import-outside-toplevel
  study = STUDIES.get(config.get('study'))
  root = workdir / 'checkpoints'
  stages = {}
  for directory in sorted(root.iterdir() if root.is_dir() else []):
    if not directory.is_dir() or directory.name.isdigit():
      continue
    step, state = read_checkpoint(directory)
    if step is None:
      continue
    model = study.stage_model(config, directory.name) if study and study.stage_model else None
    stages[directory.name] = Stage(directory.name, step, state, state['params'], model)
  return stages


def _runs_the_trainer(config) -> bool:
  from dl_course.classification.trainer import is_trainer_config  # pylint: disable=import-outside-toplevel
  return is_trainer_config(config)


def _classification_abstract(config):
  from dl_course import data  # pylint: disable=import-outside-toplevel
  from dl_course.classification.trainer import build_model_and_init  # pylint: disable=import-outside-toplevel
  info = data.from_config(config.data, 'test').info
  model, _, init = build_model_and_init(config, info)
  return model, jax.eval_shape(init, jax.random.key(config.seed))


def _rl_abstract(config):
  from dl_course.rl import experiment, runner  # pylint: disable=import-outside-toplevel
  algorithm = experiment.build(config)
  keys = runner.seed_keys(config.seed, config.num_seeds)
  return algorithm.network, jax.eval_shape(jax.vmap(algorithm.init), keys)
