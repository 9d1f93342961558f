"""Getting a finished (or stopped) run back from its workdir: the one way to put
a trained model into a notebook or an evaluation script.

  run = dl_course.load_run('runs/mlp')
  logits = run.model.apply({'params': run.state.params}, x)

Studies that keep a trained state are those that checkpoint it: classification
(every MNIST-1D config and your own) and RL (the runner state of every seed).
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import jax
import ml_collections

from dl_course.engine.checkpoint import Checkpointer, abstract_with_sharding
from dl_course.engine.records import read_metrics
from dl_course.errors import UserError


@dataclasses.dataclass
class Run:
  config: ml_collections.ConfigDict
  model: Any  # the Linen module whose params `state` holds
  state: Any  # TrainState (classification) or the runner state with a seed axis (RL)
  step: int  # training steps (RL: updates) the state has taken
  metrics: list[dict]
  summary: dict | None  # None while the run is unfinished


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
  elif 'dispatch' in config and 'optimizer' in config:
    model, abstract = _classification_abstract(config)
  else:
    raise UserError(f'{workdir}: study {config.get("study")!r} keeps no trained state, only '
                    'summary.json, metrics.jsonl and its figures')
  checkpointer = Checkpointer(workdir / 'checkpoints', keep=1_000_000)
  try:
    step = checkpointer.latest_step()
    if step is None:
      raise UserError(f'{workdir} has no checkpoint yet')
    here = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    state, _ = checkpointer.restore(step, abstract_with_sharding(abstract, here))
  finally:
    checkpointer.close()
  summary_path = workdir / 'summary.json'
  summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
  return Run(config=config, model=model, state=state, step=step, metrics=read_metrics(workdir),
             summary=summary)


def _classification_abstract(config):
  from dl_course import data  # pylint: disable=import-outside-toplevel
  from dl_course.classification.trainer import build_model_and_init  # pylint: disable=import-outside-toplevel
  info = data.load(config.dataset, 'test', config.data_dir).info
  model, _, init = build_model_and_init(config, info)
  return model, jax.eval_shape(init, jax.random.key(config.seed))


def _rl_abstract(config):
  from dl_course.rl import experiment, runner  # pylint: disable=import-outside-toplevel
  algorithm = experiment.build(config)
  keys = runner.seed_keys(config.seed, config.num_seeds)
  return algorithm.network, jax.eval_shape(jax.vmap(algorithm.init), keys)
