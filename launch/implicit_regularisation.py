"""Every implicit-regularisation study, quick or at the published scale, with
one summary table (claim | target | ours | pass) and the figures.

  python -m launch.implicit_regularisation                 # quick variants, ~3 min
  python -m launch.implicit_regularisation --full          # published scale, ~25 min
  python -m launch.implicit_regularisation --only=edge_of_stability,max_margin

Writes <workdir>/<study>/ (records and PNGs per study) and <workdir>/summary.md.
`python -m launch.reproduce implicit_regularisation` runs the same claims.
"""
from __future__ import annotations

import pathlib
import tempfile

from absl import app, flags, logging

from dl_course.claims import Claim, format_table
from dl_course.studies import IMPLICIT_STUDIES
from launch.study_suite import run_suite, summary_markdown

CONFIGS = {study: f'implicit_{study}' for study in IMPLICIT_STUDIES}


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_suite(CONFIGS, full, workdir)[0]


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  only = [s for s in (flags.FLAGS.only or '').split(',') if s]
  workdir = pathlib.Path(flags.FLAGS.workdir or tempfile.mkdtemp(prefix='implicit_'))
  claims_list, seconds = run_suite(CONFIGS, flags.FLAGS.full, workdir, only)
  title = f'Implicit regularisation: {"full" if flags.FLAGS.full else "quick"} variants'
  (workdir / 'summary.md').write_text(summary_markdown(title, claims_list, seconds, workdir))
  print(format_table(claims_list))
  print('seconds per study: ' + ', '.join(f'{s} {t:.0f}' for s, t in seconds.items()))
  print(f'summary, records and figures in {workdir}')


if __name__ == '__main__':
  # Flags are defined here, not at import, because launch.reproduce imports this module.
  flags.DEFINE_bool('full', False, 'Published scale instead of the quick variants.')
  flags.DEFINE_string('workdir', None, 'Where the runs go (default: a temp dir).')
  flags.DEFINE_string('only', '', 'Comma-separated subset of: ' + ', '.join(IMPLICIT_STUDIES))
  app.run(main)
