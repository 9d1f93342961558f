"""The course-fundamentals studies, quick or at full scale, with one summary
table (claim | target | ours | pass) and the figures.

  python -m launch.fundamentals            # quick variants (CI)
  python -m launch.fundamentals --full

Writes <workdir>/<study>/ (records and PNGs per study) and <workdir>/summary.md.
`python -m launch.reproduce fundamentals` runs the same claims.
"""
from __future__ import annotations

import pathlib

from absl import app

from dl_course.claims import Claim
from dl_course.studies import FUNDAMENTALS_STUDIES
from launch.study_suite import define_suite_flags, run_suite, suite_main

CONFIGS = {study: f'fundamentals_{study}' for study in FUNDAMENTALS_STUDIES}


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_suite(CONFIGS, full, workdir)[0]


def main(argv):
  del argv
  suite_main('Course fundamentals', CONFIGS, 'fundamentals_')


if __name__ == '__main__':
  define_suite_flags()
  app.run(main)
