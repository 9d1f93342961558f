"""The uncertainty studies with their tables beside the published numbers.

  python -m launch.uncertainty            # quick variants
  python -m launch.uncertainty --full     # published scale

Prints the UCI table (ours beside MC dropout 2016 / 2018, deep ensembles, PBP)
and the claims; writes <workdir>/<study>/ and <workdir>/summary.md.
`python -m launch.reproduce uncertainty` runs the same claims.
"""
from __future__ import annotations

import pathlib
import tempfile

from absl import app, flags, logging

from dl_course.claims import Claim, format_table
from dl_course.studies import load_summary
from dl_course.uncertainty import uci_study
from launch.study_suite import run_suite, summary_markdown

CONFIGS = {'uci_regression': 'uncertainty_uci', 'ood_held_out_classes': 'uncertainty_ood'}


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_suite(CONFIGS, full, workdir)[0]


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  workdir = pathlib.Path(flags.FLAGS.workdir or tempfile.mkdtemp(prefix='uncertainty_'))
  claims_list, seconds = run_suite(CONFIGS, flags.FLAGS.full, workdir)
  title = f'Uncertainty: {"full" if flags.FLAGS.full else "quick"} variants'
  (workdir / 'summary.md').write_text(summary_markdown(title, claims_list, seconds, workdir))
  print(uci_study.table(load_summary(workdir / 'uci_regression')))
  print()
  print(format_table(claims_list))
  print(f'summary, records and figures in {workdir}')


if __name__ == '__main__':
  # Flags are defined here, not at import, because launch.reproduce imports this module.
  flags.DEFINE_bool('full', False, 'Published scale instead of the quick variants.')
  flags.DEFINE_string('workdir', None, 'Where the runs go (default: a temp dir).')
  app.run(main)
