"""Running a family of studies (quick or full) and writing their summary table.

A family is {study name: config module under experiments/configs}; each study
writes <workdir>/<study>/ and the family's claims are concatenated in order.
"""
from __future__ import annotations

import importlib
import pathlib
import sys
import tempfile
import time

from absl import flags, logging

from dl_course.claims import Claim, format_table
from dl_course.studies import run_study
from experiments.config_docs import check_claim_count


def study_config(config_module: str, full: bool):
  module = importlib.import_module(f'experiments.configs.{config_module}')
  return module.get_config(None if full else 'quick')


def run_suite(configs: dict[str, str], full: bool, workdir: pathlib.Path,
              only: list[str] | None = None) -> tuple[list[Claim], dict]:
  unknown = sorted(set(only or []) - set(configs))
  if unknown:
    raise ValueError(f'--only has unknown runs {unknown}; allowed: {", ".join(configs)}')
  claims, seconds = [], {}
  for study, config_module in configs.items():
    if only and study not in only:
      continue
    start = time.perf_counter()
    out = workdir / study
    out.mkdir(parents=True, exist_ok=True)
    _, study_claims = run_study(study_config(config_module, full), out)
    check_claim_count(config_module, full, study_claims)
    seconds[study] = time.perf_counter() - start
    claims += study_claims
  return claims, seconds


def summary_markdown(title: str, claims: list[Claim], seconds: dict,
                     workdir: pathlib.Path) -> str:
  lines = [f'# {title}', '', '| claim | target | ours | pass |', '|---|---|---|---|']
  lines += [f'| {c.claim} | {c.target} | {c.ours} | {"pass" if c.passed else "FAIL"} |'
            for c in claims]
  passed = sum(c.passed for c in claims)
  lines += ['', f'reproduced {passed} of {len(claims)} claims', '',
            '| study | seconds | figures |', '|---|---|---|']
  for study, secs in seconds.items():
    figures = ', '.join(sorted(p.name for p in (workdir / study).glob('*.png')))
    lines.append(f'| {study} | {secs:.0f} | {figures} |')
  return '\n'.join(lines) + '\n'


def define_suite_flags() -> None:
  """--full, --workdir and --only. A suite script calls this under __main__, not
  at import, because launch.reproduce imports every suite module."""
  flags.DEFINE_bool('full', False, 'Published scale instead of the quick variants.')
  flags.DEFINE_string('workdir', None, 'Where the runs go (default: a temp dir).')
  flags.DEFINE_string('only', '', 'Comma-separated subset of the suite\'s runs (default: all).')


def suite_workdir(prefix: str) -> pathlib.Path:
  logging.set_verbosity(logging.ERROR)
  return pathlib.Path(flags.FLAGS.workdir or tempfile.mkdtemp(prefix=prefix))


def finish_suite(name: str, workdir: pathlib.Path, claims: list[Claim], seconds: dict,
                 tables: str = '') -> None:
  """Writes <workdir>/summary.md and prints the tables, then the claims."""
  title = f'{name}: {"full" if flags.FLAGS.full else "quick"} variants'
  (workdir / 'summary.md').write_text(summary_markdown(title, claims, seconds, workdir))
  if tables:
    print(tables)
  print(format_table(claims))
  print('seconds per run: ' + ', '.join(f'{s} {t:.0f}' for s, t in seconds.items()))
  print(f'summary, records and figures in {workdir}')


def suite_main(title: str, configs: dict[str, str], prefix: str) -> None:
  """The body of a suite script that prints only the claims table: run the
  configs (those named by --only, if given), summarise."""
  only = [s for s in flags.FLAGS.only.split(',') if s]
  unknown = sorted(set(only) - set(configs))
  if unknown:  # a user mistake: one line, no traceback
    print(f'error: --only={",".join(unknown)} is not allowed: a comma-separated subset of '
          f'{", ".join(configs)}', file=sys.stderr)
    sys.exit(2)
  workdir = suite_workdir(prefix)
  claims, seconds = run_suite(configs, flags.FLAGS.full, workdir, only)
  finish_suite(title, workdir, claims, seconds)
