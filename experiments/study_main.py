"""The body of every study script: load --config, run the study into --workdir,
print its claims table. Scripts are `cli.run(study_main.main)`."""
from absl import flags
from ml_collections import config_flags

from dl_course.claims import format_table
from dl_course.engine.records import prepare_workdir
from dl_course.studies import run_study
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
