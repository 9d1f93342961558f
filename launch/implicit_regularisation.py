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

from absl import app

from dl_course.claims import Claim
from dl_course.studies import IMPLICIT_STUDIES
from launch.study_suite import define_suite_flags, run_suite, suite_main

CONFIGS = {study: f'implicit_{study}' for study in IMPLICIT_STUDIES}


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_suite(CONFIGS, full, workdir)[0]


def main(argv):
  del argv
  suite_main('Implicit regularisation', CONFIGS, 'implicit_')


if __name__ == '__main__':
  define_suite_flags()
  app.run(main)
