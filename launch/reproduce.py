"""Re-runs studies' claims and prints claim | kind | target | published (source) | ours | pass.

  python -m launch.reproduce mnist1d                  # a family, quick variants
  python -m launch.reproduce uncertainty --full       # at the published scale
  python -m launch.reproduce ppo_cartpole,vae         # studies by name
  python -m launch.reproduce all                      # every family
  python -m launch.reproduce --list                   # families and studies

On a GPU the runs use XLA's deterministic ops (--xla_gpu_deterministic_ops=true
is added to XLA_FLAGS, and so to each run's manifest and replay command), so two
reproductions give the same records; --nogpu_deterministic trades that for speed.

Studies come from experiments/registry.py. Each writes <workdir>/<study>/ (its
records and figures); the run writes <workdir>/summary.md. Exits 0 only if every
claim passes and every threshold in each config's `claim` section decides one of
its claims (moved to +-1e300 it flips a verdict: else that claim could not
fail). The last lines count the checks (identities that fail only on a bug),
then the findings: `reproduced K of N claims` (dl_course/claims.py). A quick
variant's rows say `quick:` before the target they test.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from absl import flags, logging

from dl_course.claims import (HEADER, Claim, all_passed, as_quick, count_lines, format_table, row,
                              ungated_thresholds)
from dl_course.engine.loop import progress_bar
from dl_course.engine.records import prepare_workdir
from dl_course.studies import Study, load_summary, mean_summary
from experiments import cli, registry

_FULL = flags.DEFINE_bool('full', False, 'Run at the published scale instead of the quick variant.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the runs go (default: a new temp dir).')
_LIST = flags.DEFINE_bool('list', False, 'List the families and their studies, then exit.')
_GPU_DETERMINISTIC = flags.DEFINE_bool(
    'gpu_deterministic', True, 'On a GPU, deterministic XLA ops (slower): two runs give the '
    'same records. No effect on a CPU, which is deterministic anyway.')
GPU_DETERMINISM_FLAG = '--xla_gpu_deterministic_ops=true'


def with_gpu_determinism(xla_flags: str) -> str:
  """XLA_FLAGS with deterministic GPU ops on (kept as it is if they already say so)."""
  if '--xla_gpu_deterministic_ops' in xla_flags:
    return xla_flags
  return f'{xla_flags} {GPU_DETERMINISM_FLAG}'.strip()


def run_variant(study: Study, arg: str, workdir: pathlib.Path) -> dict:
  """One config argument of a study, run into `workdir`; returns its summary."""
  if study.own_process:
    # RL runs in a child of its own: a fresh runtime for each compiled run.
    config_flag = study.config_path + (f':{arg}' if arg else '')
    done = subprocess.run([sys.executable, '-m', 'experiments.main', f'--config={config_flag}',
                           f'--workdir={workdir}'], capture_output=True, text=True, check=False)
    if done.returncode not in (0, cli.EXIT_CLAIM_FAILED):  # its claims are checked below
      lines = done.stderr.strip().splitlines() or ['(no output)']
      raise cli.UserError(f'{study.name} failed (exit {done.returncode}): {lines[-1]}')
    return load_summary(workdir)
  config = study.get_config(arg)
  if 'progress' in config:
    config.progress = False
  return study.run(config, workdir)


def variant_dir(workdir: pathlib.Path, study: Study, arg: str, args: Sequence[str]
                ) -> pathlib.Path:
  """Where one config argument of a study runs: <workdir>/<study>/[<arg>/]."""
  return workdir / study.name / (arg.replace('=', '') if len(args) > 1 else '')


def reproduce(study: Study, full: bool, workdir: pathlib.Path
              ) -> tuple[list[Claim], str, list[str]]:
  """Runs the study at that scale; its claims, its results table (or '') and the
  config.claim thresholds that decide none of them (they should all decide one)."""
  args = study.reproduce_args[int(full)]
  summaries = []
  for arg in args:
    out = variant_dir(workdir, study, arg, args)
    out.mkdir(parents=True, exist_ok=True)
    summaries.append(run_variant(study, arg, out))
  claims, table, summary, config = judge(study, full, summaries)
  return claims, table, ungated_thresholds(study.claims, config, summary)


def judge(study: Study, full: bool, summaries: list[dict]):
  """(claims, table, summary, config) of a study's runs at that scale (seeds averaged)."""
  args = study.reproduce_args[int(full)]
  summary = summaries[0] if len(summaries) == 1 else mean_summary(summaries)
  config = study.get_config(args[-1])
  claims = study.claims(config, summary)
  if any('quick' in arg.split(',') for arg in args):
    claims = as_quick(claims)
  return claims, study.table(summary) if study.table else '', summary, config


def recorded(study: Study, full: bool, workdir: pathlib.Path):
  """What an earlier `launch.reproduce --workdir=workdir` left of a study, judged
  again without running anything: (claims, table, figure paths), or None where
  a variant has no summary.json there."""
  args = study.reproduce_args[int(full)]
  folders = [variant_dir(pathlib.Path(workdir), study, arg, args) for arg in args]
  if not all((folder / 'summary.json').exists() for folder in folders):
    return None
  claims, table, _, _ = judge(study, full, [load_summary(folder) for folder in folders])
  figures = sorted(p for folder in folders for p in folder.rglob('*.png'))
  return claims, table, figures


def summary_markdown(title: str, rows: list[tuple[Study, list[Claim], float]],
                     workdir: pathlib.Path) -> str:
  claims = [c for _, study_claims, _ in rows for c in study_claims]
  lines = [f'# {title}', '', '| study | ' + ' | '.join(HEADER) + ' |',
           '|---' * (len(HEADER) + 1) + '|']
  lines += ['| ' + ' | '.join((study.name, *row(c))) + ' |' for study, study_claims, _ in rows
            for c in study_claims]
  lines += ['', *count_lines(claims), '', '| study | seconds | figures |', '|---|---|---|']
  for study, _, seconds in rows:
    figures = ', '.join(sorted(p.name for p in (workdir / study.name).rglob('*.png')))
    lines.append(f'| {study.name} | {seconds:.0f} | {figures} |')
  return '\n'.join(lines) + '\n'


def list_studies() -> str:
  lines = []
  for family, studies in registry.FAMILIES.items():
    lines.append(f'{family}: ' + ', '.join(s.name + (' (resumes)' if s.resumes else '')
                                           for s in studies))
  return '\n'.join(lines)


def main(argv):
  if _LIST.value:
    print(list_studies())
    return
  if _GPU_DETERMINISTIC.value:  # before any device is touched: XLA reads it once
    os.environ['XLA_FLAGS'] = with_gpu_determinism(os.environ.get('XLA_FLAGS', ''))
  names = [n for part in argv[1:] for n in part.split(',') if n]
  studies = registry.select(names)
  logging.set_verbosity(logging.ERROR)
  workdir = prepare_workdir(_WORKDIR.value or tempfile.mkdtemp(prefix='reproduce_'))
  variant = 'full' if _FULL.value else 'quick'
  print(f'{len(studies)} {"study" if len(studies) == 1 else "studies"} ({variant}) into '
        f'{workdir}', flush=True)
  rows, tables, ungated = [], [], []
  with progress_bar(len(studies), unit='study') as bar:
    for index, study in enumerate(studies, 1):
      bar.set_description(study.name)
      start = time.perf_counter()
      claims, table, study_ungated = reproduce(study, _FULL.value, workdir)
      ungated += [f'{study.name}: config.claim.{key}' for key in study_ungated]
      seconds = time.perf_counter() - start
      rows.append((study, claims, seconds))
      if table:
        tables.append(f'{study.name}\n{table}\n')
      passed = sum(c.passed for c in claims)
      bar.write(f'[{index}/{len(studies)}] {study.family}/{study.name} ({variant}): {passed} of '
                f'{len(claims)} rows pass in {seconds:.0f} s', file=sys.stdout)
      bar.update()
  title = f'{", ".join(names)}: {variant} variants'
  (workdir / 'summary.md').write_text(summary_markdown(title, rows, workdir))
  claims = [c for _, study_claims, _ in rows for c in study_claims]
  print('\n'.join(tables))
  print(f'records, figures and summary.md in {workdir}')
  if ungated:
    print('thresholds that decide no claim (a claim that cannot fail): ' + ', '.join(ungated))
  print(format_table(claims), flush=True)
  sys.exit(0 if all_passed(claims) and not ungated else 1)


if __name__ == '__main__':
  cli.run(main)
