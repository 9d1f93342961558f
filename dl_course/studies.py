"""Runs one study (implicit regularisation, uncertainty, fundamentals, generative) into a workdir.

A study module provides
  validate(config)                      -> raises ConfigError on a bad key
  run(config, log) -> summary           log(record) appends to metrics.jsonl
  plot(summary, workdir)                -> writes its PNG figures
  claims(config, summary) -> [Claim]    its expected results, checked
and the runner does the bookkeeping: config.json, manifest.json, metrics.jsonl,
summary.json. A study is short and deterministic, so a second run in the same
workdir starts afresh (and writes byte-identical metrics for the same seed and
device count); long grids save each finished cell in metrics.jsonl as they go.
"""
from __future__ import annotations

import importlib
import json
import pathlib

import ml_collections

from dl_course.claims import Claim
from dl_course.config import check_range, to_json_dict
from dl_course.engine.records import MetricWriter, is_writer, write_json, write_manifest
from dl_course.errors import ConfigError

IMPLICIT_STUDIES = ('min_norm', 'max_margin', 'edge_of_stability', 'batch_size_lr',
                    'random_labels', 'double_descent', 'gradient_regularisation')
UNCERTAINTY_STUDIES = ('uci_regression', 'dataset_shift', 'ood_held_out_classes')
FUNDAMENTALS_STUDIES = ('backprop', 'optimizers', 'initialisation', 'tricks', 'cnn', 'recurrent',
                        'attention', 'visualisation')
GENERATIVE_STUDIES = ('flows2d', 'image_flows', 'vae', 'autoencoders', 'gan2d', 'dcgan',
                      'gumbel', 'semi_supervised')
MODULES = {**{name: f'dl_course.implicit.{name}' for name in IMPLICIT_STUDIES},
           'uci_regression': 'dl_course.uncertainty.uci_study',
           'dataset_shift': 'dl_course.uncertainty.shift_study',
           'ood_held_out_classes': 'dl_course.uncertainty.ood_study',
           **{name: f'dl_course.fundamentals.{name}_study' for name in FUNDAMENTALS_STUDIES},
           **{name: f'dl_course.generative.{name}_study' for name in GENERATIVE_STUDIES}}


def study_module(name: str):
  if name not in MODULES:
    raise ConfigError('study', name, 'one of ' + ', '.join(MODULES))
  return importlib.import_module(MODULES[name])


def run_study(config: ml_collections.ConfigDict, workdir: pathlib.Path
              ) -> tuple[dict, list[Claim]]:
  module = study_module(config.study)
  check_range(config, 'seed', 0, integer=True)
  module.validate(config)
  workdir = pathlib.Path(workdir)
  if is_writer():
    write_json(workdir / 'config.json', to_json_dict(config))
    (workdir / 'metrics.jsonl').unlink(missing_ok=True)
  write_manifest(workdir, seed=config.seed, start_step=0)
  writer = MetricWriter(workdir)
  summary = module.run(config, writer.write)
  if is_writer():
    write_json(workdir / 'summary.json', summary)
    module.plot(summary, workdir)
  return summary, module.claims(config, summary)


def load_summary(workdir) -> dict:
  return json.loads((pathlib.Path(workdir) / 'summary.json').read_text())
