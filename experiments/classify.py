"""Train and evaluate a classifier.

python -m experiments.classify --config=experiments/configs/mnist1d_mlp.py \
    --workdir=/tmp/mnist1d_mlp [--config.optimizer.learning_rate=3e-3 ...]
"""
from absl import flags
from ml_collections import config_flags

from dl_course.classification import train_and_evaluate
from dl_course.engine.records import prepare_workdir
from experiments import cli

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Config file (path[:arg]).',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the run writes its records; '
                               'an existing run there is resumed.')


def main(argv):
  if len(argv) > 1:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  config = cli.config_value(_CONFIG)
  workdir = prepare_workdir(_WORKDIR.value)
  result = train_and_evaluate(config, workdir)
  if result['stopped_early']:
    print(f'stopped by SIGTERM at step {result["step"]}; checkpoint saved in {workdir}; '
          f'run the same command to resume')
    return
  shown = ', '.join(f'{k}={v:.4f}' for k, v in result.items()
                    if k.startswith('test/') and isinstance(v, float))
  print(f'step {result["step"]}: {shown}  ({workdir})')


if __name__ == '__main__':
  cli.run(main)
