"""Every implicit-regularisation study, quick or at the published scale, with
one summary table (claim | target | ours | pass) and the figures.

  python -m launch.implicit_regularisation                 # quick variants, ~4 min
  python -m launch.implicit_regularisation --full          # published scale
  python -m launch.implicit_regularisation --only=edge_of_stability,max_margin

Writes <workdir>/<study>/ (records and PNGs per study) and <workdir>/summary.md.
`python -m launch.reproduce implicit_regularisation` runs the same claims.
"""
from __future__ import annotations

import importlib
import pathlib
import tempfile
import time

from absl import app, flags, logging

from dl_course.claims import Claim, format_table
from dl_course.implicit import STUDIES, run_study


def study_config(study: str, full: bool):
  module = importlib.import_module(f'experiments.configs.implicit_{study}')
  return module.get_config(None if full else 'quick')


def run_all(full: bool, workdir: pathlib.Path, studies=STUDIES) -> tuple[list[Claim], dict]:
  claims, seconds = [], {}
  for study in studies:
    start = time.perf_counter()
    out = workdir / study
    out.mkdir(parents=True, exist_ok=True)
    _, study_claims = run_study(study_config(study, full), out)
    seconds[study] = time.perf_counter() - start
    claims += study_claims
  return claims, seconds


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_all(full, workdir)[0]


def summary_markdown(claims_list: list[Claim], seconds: dict, workdir: pathlib.Path,
                     full: bool) -> str:
  lines = [f'# Implicit regularisation: {"full" if full else "quick"} variants', '',
           '| claim | target | ours | pass |', '|---|---|---|---|']
  lines += [f'| {c.claim} | {c.target} | {c.ours} | {"pass" if c.passed else "FAIL"} |'
            for c in claims_list]
  passed = sum(c.passed for c in claims_list)
  lines += ['', f'reproduced {passed} of {len(claims_list)} claims', '',
            '| study | seconds | figures |', '|---|---|---|']
  for study, secs in seconds.items():
    figures = ', '.join(sorted(p.name for p in (workdir / study).glob('*.png')))
    lines.append(f'| {study} | {secs:.0f} | {figures} |')
  return '\n'.join(lines) + '\n'


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  only = [s for s in (flags.FLAGS.only or '').split(',') if s]
  unknown = sorted(set(only) - set(STUDIES))
  if unknown:
    raise app.UsageError(f'--only has unknown studies {unknown}; allowed: {", ".join(STUDIES)}')
  workdir = pathlib.Path(flags.FLAGS.workdir or tempfile.mkdtemp(prefix='implicit_'))
  claims_list, seconds = run_all(flags.FLAGS.full, workdir, only or STUDIES)
  (workdir / 'summary.md').write_text(summary_markdown(claims_list, seconds, workdir,
                                                       flags.FLAGS.full))
  print(format_table(claims_list))
  print('seconds per study: ' + ', '.join(f'{s} {t:.0f}' for s, t in seconds.items()))
  print(f'summary, records and figures in {workdir}')


if __name__ == '__main__':
  # Flags are defined here, not at import, because launch.reproduce imports this module.
  flags.DEFINE_bool('full', False, 'Published scale instead of the quick variants.')
  flags.DEFINE_string('workdir', None, 'Where the runs go (default: a temp dir).')
  flags.DEFINE_string('only', '', 'Comma-separated subset of: ' + ', '.join(STUDIES))
  app.run(main)
