"""Train an RL algorithm on a gymnax environment for several seeds, resumably.

python -m experiments.rl --config=experiments/configs/rl_ppo_cartpole.py[:quick] \
    --workdir=/tmp/ppo_cartpole

Rerunning with the same workdir resumes from the last checkpoint (one per
chunk of updates). Prints claim | target | ours | pass and
`reproduced K of N claims`.
"""
from absl import flags
from ml_collections import config_flags

from dl_course.claims import format_table
from dl_course.engine.records import prepare_workdir
from dl_course.rl.experiment import run_rl
from experiments import cli

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Config file (path[:arg]).',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the run writes its records.')
_MAX_CHUNKS = flags.DEFINE_integer('max_chunks', None,
                                   'Stop after this many chunks (a rerun resumes).')


def main(argv):
  if len(argv) > 1:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  config = cli.config_value(_CONFIG)
  workdir = prepare_workdir(_WORKDIR.value)
  summary, claims = run_rl(config, workdir, max_chunks=_MAX_CHUNKS.value)
  if summary is None:
    print(f'stopped after --max_chunks={_MAX_CHUNKS.value}; rerun to resume from {workdir}')
    return
  print(format_table(claims))
  print(f'records and figures in {workdir}')


if __name__ == '__main__':
  cli.run(main)
