"""Re-runs a study's published claims and prints claim | target | ours | pass.

  python -m launch.reproduce mnist1d            # quick variant
  python -m launch.reproduce mnist1d --full     # published scale
  python -m launch.reproduce --list

Exits 0 only if every claim passes; the last line reads `reproduced K of N claims`.
"""
from __future__ import annotations

import importlib
import pathlib
import sys
import tempfile

from absl import flags, logging

from dl_course.claims import report
from experiments import cli
from launch.study_registry import STUDIES

_FULL = flags.DEFINE_bool('full', False, 'Run at the published scale instead of the quick variant.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the runs go (default: a temp dir).')
_LIST = flags.DEFINE_bool('list', False, 'List the studies and exit.')


def main(argv):
  if _LIST.value:
    print('\n'.join(sorted(STUDIES)))
    return
  if len(argv) != 2 or argv[1] not in STUDIES:
    given = ' '.join(argv[1:]) or '(none)'
    raise cli.UserError(f'study {given!r} is unknown; allowed: {", ".join(sorted(STUDIES))}')
  logging.set_verbosity(logging.ERROR)
  workdir = pathlib.Path(_WORKDIR.value or tempfile.mkdtemp(prefix=f'reproduce_{argv[1]}_'))
  module = importlib.import_module(STUDIES[argv[1]])
  sys.exit(report(module.claims(_FULL.value, workdir)))


if __name__ == '__main__':
  cli.run(main)
