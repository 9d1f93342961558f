"""Run one implicit-regularisation study and check its expected results.

python -m experiments.implicit_regularisation \
    --config=experiments/configs/implicit_min_norm.py[:quick] --workdir=/tmp/min_norm

Prints claim | target | ours | pass and `reproduced K of N claims`; the records
and figures are in the workdir.
"""
from absl import flags
from ml_collections import config_flags

from dl_course.claims import format_table
from dl_course.engine.records import prepare_workdir
from dl_course.implicit import run_study
from experiments import cli

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Config file (path[:arg]).',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the study writes its records.')


def main(argv):
  if len(argv) > 1:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  config = cli.config_value(_CONFIG)
  workdir = prepare_workdir(_WORKDIR.value)
  _, claims = run_study(config, workdir)
  print(format_table(claims))
  print(f'records and figures in {workdir}')


if __name__ == '__main__':
  cli.run(main)
