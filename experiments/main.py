"""The one entry point: run any study's config into a workdir.

  python -m experiments.main --config=experiments/configs/<family>/<study>.py[:quick] \
      --workdir=DIR [--config.<key>=<value> ...] [--max_chunks=N]

The config names its study (`config.study`, see experiments/registry.py). The
run writes config.json, manifest.json, metrics.jsonl, summary.json and its
figures to DIR, then prints its claims table (claim | kind | target | published
(source) | ours | pass; dl_course/claims.py) and
exits 3 if a claim failed (exit codes: experiments/cli.py). A
resumable study (classification, RL, the long staged studies: `launch.reproduce
--list` marks them) rerun with the same command in the same workdir continues
where it stopped; SIGTERM or --max_chunks stop it with a checkpoint.
"""
import contextlib
import sys

from absl import flags
from ml_collections import config_flags

from dl_course.claims import as_quick, format_table
from dl_course.config import flat_items
from dl_course.engine import distributed
from dl_course.engine.records import is_writer, prepare_workdir, workdir_lock
from dl_course.errors import SizeError
from dl_course.studies import Stopped
from experiments import cli, registry

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Config file (path[:arg]).',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the run writes its records; '
                               'a resumable run there is continued.')
_MAX_CHUNKS = flags.DEFINE_integer('max_chunks', None, 'Stop after this many chunks '
                                   '(resumable studies only; rerun to continue).', lower_bound=1)
_COORDINATOR = flags.DEFINE_string('coordinator_address', None, 'host:port of process 0 of a '
                                   'multi-process run (jax.distributed); under SLURM with '
                                   'several tasks, read from the job instead.')
_NUM_PROCESSES = flags.DEFINE_integer('num_processes', None, 'Processes in the run.',
                                      lower_bound=1)
_PROCESS_ID = flags.DEFINE_integer('process_id', None, 'This process\'s rank.', lower_bound=0)


def main(argv):
  if len(argv) > 1:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  config = cli.config_value(_CONFIG)
  study = registry.study_for(config)
  study.check(config)
  several = distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
  workdir = prepare_workdir(_WORKDIR.value)
  # One writer per workdir: in a multi-process run that is process 0 (the others
  # write no records, only their checkpoint shards).
  with workdir_lock(workdir) if not several or is_writer() else contextlib.nullcontext():
    try:
      summary = study.run(config, workdir, max_chunks=_MAX_CHUNKS.value)
    except SizeError as e:
      raise cli.UserError(_naming_the_key(config, e)) from None
  if isinstance(summary, Stopped):
    print(f'{summary}; checkpoint saved in {workdir}; '
          'run the same command to resume')
    if summary.reason == 'SIGINT':
      sys.exit(130)  # the shell's convention for a run ended by Ctrl-C
    return
  shown = ', '.join(f'{k}={v:.4f}' for k, v in summary.items()
                    if k.startswith(('val/', 'test/')) and isinstance(v, float))
  if shown:
    print(f'step {summary["step"]}: {shown}')
  claims = study.claims(config, summary)
  if _is_quick():
    claims = as_quick(claims)
  if study.table:
    print(study.table(summary))
  if claims:
    print(format_table(claims))
  print(f'records and figures in {workdir}')
  if not all(claim.passed for claim in claims):
    sys.exit(cli.EXIT_CLAIM_FAILED)


def _is_quick() -> bool:
  """Whether --config names a quick variant (`path.py:quick[,...]`)."""
  given = cli.config_given(sys.argv)
  return 'quick' in given.partition(':')[2].split(',')


def _naming_the_key(config, error: SizeError) -> str:
  """The size error as the config key that holds its value, where one does."""
  keys = [key for key, value in flat_items(config)
          if value == error.value and not isinstance(value, bool)]
  if not keys:
    return str(error)
  return f'config.{keys[0]}={error.value!r} is not allowed: {error.allowed}'


if __name__ == '__main__':
  cli.run(main)
