"""The one study protocol: a `Study` record, and the bookkeeping every study shares.

A study is a record (experiments/registry.py lists them all, by explicit import):

  name, family     how `launch.reproduce` and `--config.study` name it
  config           the config module (`get_config(arg)`; the docstring holds its
                   commands and expected result; claim thresholds are config keys)
  run              run(config, workdir, max_chunks=None) -> summary, or Stopped when
                   it stopped before the end (SIGTERM, --max_chunks) and can resume
  claims           claims(config, summary) -> [Claim], its expected results, checked
  table            table(summary) -> str, a results table beside published rows
  resumes          whether rerunning the same command in the workdir continues it
  reproduce_args   the config arguments `launch.reproduce` runs, quick then full;
                   several arguments (seeds) are run one by one and their summaries
                   averaged before the claims are checked
  own_process      `launch.reproduce` runs it in a child process (RL, see WORKSPACE.md)
  diverge          config overrides (`key=value`) under which its quick config
                   diverges within seconds: a learning rate of 1e30, or larger where
                   1e30 stays finite (Adam's steps are bounded by the rate; float64;
                   saturating tanh networks, which also get a span or activation that
                   lets the rate act); `launch.guard_walk` checks that the run then
                   stops with one line naming metric and step
  trains_nothing   instead of `diverge`: why no run of it can diverge
  resume_check     for a resumable study, overrides that make its chunks short and
                   log: `launch.guard_walk` checks that one chunk, then the same
                   command for two more, writes the very metrics.jsonl of three
                   chunks in one go
  stage_model      stage_model(config, stage) -> the Linen module a resumable study's
                   stage trains (None for a stage that has none), for load_run

Most studies are a module with validate(config), run(config, log) -> summary,
plot(summary, workdir), claims(config, summary) and maybe table(summary);
`logged_run(module)` turns such a module into the record's `run`: it validates
first, writes config.json, manifest.json, metrics.jsonl (a `step` in every
record), summary.json and the figures, and passes every record and the summary
through the NaN guard (`guard.check_record`: a non-finite number stops the run
with one line naming it and its step). A study that is short and deterministic
starts afresh when rerun in its workdir. A long one is resumable (`resumes`):
its module's run(config, progress) logs through `progress` and trains its
stages with `progress.checkpoints(name)` / `progress.unit(name, ...)`
(engine/progress.py), and a rerun with the same config continues it, SIGTERM
and --max_chunks stop it with a checkpoint, and the records come out
byte-identical to an uninterrupted run's.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import types
from collections.abc import Callable, Sequence

import ml_collections
import numpy as np

from dl_course.claims import Claim
from dl_course.config import (check_claim_section, check_like_default, check_range,
                              to_json_dict)
from dl_course.engine.guard import check_record
from dl_course.engine.loop import StopRequest, progress_bar
from dl_course.engine.progress import Progress, StopRun
from dl_course.engine.records import (MetricWriter, check_same_run, is_writer, read_metrics,
                                      write_json, write_manifest)
from dl_course.errors import UserError


@dataclasses.dataclass(frozen=True)
class Stopped:
  """What a resumable study's run returns when it stopped before the end."""
  step: int | None
  reason: str  # 'SIGTERM', 'SIGINT' or '--max_chunks'
  where: str = ''  # instead of the step: 'step 50 of width_6', 'unit boston_split_3'

  def __str__(self) -> str:
    return f'stopped by {self.reason} ' + (f'after {self.where}' if self.where
                                           else f'at step {self.step}')


@dataclasses.dataclass(frozen=True)
class Study:
  name: str
  family: str
  config: types.ModuleType
  run: Callable
  claims: Callable[[ml_collections.ConfigDict, dict], list[Claim]]
  table: Callable[[dict], str] | None = None
  resumes: bool = False
  reproduce_args: tuple[Sequence[str], Sequence[str]] = (('quick',), ('',))
  own_process: bool = False
  diverge: tuple[str, ...] = ()
  trains_nothing: str = ''
  resume_check: tuple[str, ...] = ()
  stage_model: Callable | None = None

  def __post_init__(self):
    if bool(self.diverge) == bool(self.trains_nothing):
      raise ValueError(f'study {self.name!r}: give exactly one of diverge (overrides that '
                       'make it diverge) and trains_nothing (why it cannot)')
    if self.resumes != bool(self.resume_check):
      raise ValueError(f'study {self.name!r}: a resumable study, and only one, gives '
                       'resume_check (overrides for short chunks)')

  def check(self, config: ml_collections.ConfigDict) -> None:
    """One line, before any work, for a config that is not this study's, or holds a
    value that no run can use (config.check_like_default)."""
    check_like_default(config, self.get_config(),
                       'classification' if self.family == 'classification'
                       else f'{self.name} study ({self.family})', self.config_path)

  def get_config(self, arg: str = '') -> ml_collections.ConfigDict:
    return self.config.get_config(arg or None)

  @property
  def config_path(self) -> str:
    """The config file, relative to the repository root (for commands)."""
    path = pathlib.Path(self.config.__file__).resolve()
    return str(path.relative_to(pathlib.Path(__file__).resolve().parents[1]))


def from_module(name: str, family: str, config: types.ModuleType, module: types.ModuleType,
                **fields) -> Study:
  """The record of a study written as a module with validate / run / plot / claims."""
  return Study(name=name, family=family, config=config,
               run=logged_run(module, resumes=fields.get('resumes', False)),
               claims=module.claims, table=getattr(module, 'table', None),
               stage_model=getattr(module, 'stage_model', None), **fields)


def logged_run(module: types.ModuleType, resumes: bool = False) -> Callable:
  """The record's run for a study module. A resumable module's run(config, progress)
  logs through `progress` and trains its stages with its checkpoints
  (engine/progress.py); the others' run(config, log) starts afresh each time."""
  def run(config: ml_collections.ConfigDict, workdir: pathlib.Path,
          max_chunks: int | None = None) -> dict | Stopped:
    if max_chunks is not None and not resumes:
      raise UserError(f'--max_chunks is not allowed for study {config.study!r}: it runs '
                      'in one go (only resumable studies stop after N chunks)')
    check_range(config, 'seed', 0, integer=True)
    check_claim_section(config)
    module.validate(config)
    workdir = pathlib.Path(workdir)
    if resumes:
      _check_resumable(workdir, config)
    elif is_writer():
      (workdir / 'metrics.jsonl').unlink(missing_ok=True)
    if is_writer():
      write_json(workdir / 'config.json', to_json_dict(config))
    write_manifest(workdir, seed=config.seed, start_step=0)
    writer = MetricWriter(workdir)
    # A study's stages have no common length: the bar counts its records and
    # shows the latest one's step and first metric (train_in_blocks adds a
    # bar with an ETA for each stage it trains).
    records_bar = progress_bar(unit='record', desc=config.study)

    def log(record: dict) -> None:
      if 'step' not in record:  # a bug in the study, not a user's mistake
        raise ValueError(f'study {config.study!r} logged a record without a step: '
                         f'{sorted(record)}')
      check_record(record)  # the NaN guard, before the record is kept
      writer.write(record)
      records_bar.update()
      metric = next((k for k in sorted(record) if '/' in k and isinstance(record[k], float)), None)
      records_bar.set_postfix(step=record['step'], **(
          {metric: f'{record[metric]:.4g}'} if metric else {}), refresh=False)

    with records_bar:
      summary = _run_logged(module, config, workdir, log, resumes, max_chunks)
    if isinstance(summary, Stopped):
      return summary
    check_record(summary, step=_last_step(workdir))
    if is_writer():
      write_json(workdir / 'summary.json', summary)
      module.plot(summary, workdir)
    return summary
  return run


def _run_logged(module, config, workdir, log, resumes, max_chunks) -> dict | Stopped:
  if resumes:
    with StopRequest().on_signals() as stop:
      progress = Progress(workdir, log, max_chunks=max_chunks, stop=stop)
      try:
        summary = module.run(config, progress)
        progress.finish()
      except StopRun as stopped:
        return Stopped(None, stopped.reason, stopped.where)
      finally:
        progress.close()
    return summary
  return module.run(config, log)


def _check_resumable(workdir: pathlib.Path, config) -> None:
  """A resumable study's workdir: the same config continues it; one without a
  config.json must not hold another run's checkpoints or units."""
  if (workdir / 'config.json').exists():
    check_same_run(workdir, config)
    return
  leftovers = [name for name in ('checkpoints', 'units') if (workdir / name).exists()]
  if leftovers:
    raise UserError(f'--workdir={workdir} holds {leftovers[0]}/ but no config.json, so '
                    'whose run it continues is unknown; use a new --workdir')
  if is_writer():
    (workdir / 'metrics.jsonl').unlink(missing_ok=True)


def _last_step(workdir: pathlib.Path) -> int:
  records = read_metrics(workdir) if (workdir / 'metrics.jsonl').exists() else []
  return max((r.get('step', 0) for r in records), default=0)


def mean_summary(summaries: list[dict]) -> dict:
  """Several seeds' summaries as one: numbers averaged, each seed's kept under
  `per_seed`, `num_seeds` set; other entries taken from the first."""
  first = summaries[0]
  combined = {k: v for k, v in first.items()}
  for key, value in first.items():
    if isinstance(value, (int, float)) and not isinstance(value, bool):
      combined[key] = float(np.mean([s[key] for s in summaries]))
  combined['per_seed'] = summaries
  combined['num_seeds'] = len(summaries)
  return combined


def load_summary(workdir) -> dict:
  return json.loads((pathlib.Path(workdir) / 'summary.json').read_text())
