"""What every experiment script shares: flag parsing and error handling.

User mistakes (a bad flag, an unknown config key, a value out of range, a
missing dataset, an unwritable workdir) print one line `error: ...` to stderr
and exit with status 2, without a traceback. Exit codes:

  0    finished (every claim passed) or stopped with a checkpoint (SIGTERM, --max_chunks)
  1    diverged (the NaN guard), or a fault mid-run such as a full disk
  2    a user mistake, before any work
  3    finished, and a claim it checks failed (its table says which)
  130  stopped by Ctrl-C (SIGINT), with a checkpoint
"""
from __future__ import annotations

import logging as std_logging
import re
import sys
from collections.abc import Callable

from absl import app, flags, logging
import ml_collections

from dl_course.engine import compilation_cache
from dl_course.errors import StorageError, TrainingDivergedError, UserError, storage_cause

__all__ = ['UserError', 'config_value', 'fail', 'run']

EXIT_USAGE = 2
EXIT_DIVERGED = 1
EXIT_FAULT = 1  # mid-run, e.g. a full disk: the last good checkpoint is kept
EXIT_CLAIM_FAILED = 3


def fail(message: str, code: int = EXIT_USAGE):
  one_line = ' '.join(part.strip() for part in str(message).splitlines() if part.strip())
  print(f'error: {one_line}', file=sys.stderr, flush=True)
  sys.exit(code)


# The keys every study shares live in sections (`data`, `optimizer`, `train`); a
# flat spelling, as configs had before, is pointed to its place.
SECTION_OF = {'learning_rate': 'optimizer', 'num_steps': 'train', 'batch_size': 'train',
              'eval_every': 'train', 'epochs': 'train', 'eval_every_epochs': 'train',
              'max_steps': 'train', 'dataset': 'data.name', 'data_dir': 'data.dir'}


def _moved_to(missing: str, flag: str | None) -> str | None:
  if flag != f'--config.{missing}' or missing not in SECTION_OF:
    return None
  place = SECTION_OF[missing]
  return place if '.' in place else f'{place}.{missing}'


HELP_FLAGS = ('-h', '--help', '--helpshort', '--helpfull', '-?')


def _parse_flags(argv: list[str]) -> list[str]:
  wants_help = any(a in HELP_FLAGS for a in argv[1:])
  argv = [a for a in argv if a not in HELP_FLAGS] if wants_help else argv
  try:
    remaining = flags.FLAGS(argv)
  except flags.Error as e:
    fail(str(e).splitlines()[0])
  except (AttributeError, KeyError) as e:  # ml_collections: an override of a missing key.
    # The message is the key, possibly quoted and followed by 'Did you mean "x"...'.
    text = str(e.args[0]) if e.args else str(e)
    if 'get_config' in text:
      fail(f'--config={config_given(argv)} has no get_config(): a config file defines '
           'get_config(arg) that returns an ml_collections.ConfigDict (see experiments/configs/)')
    named = re.search(r"(\w+)", text)
    missing = named.group(1) if named else text
    suggestion = re.search(r'Did you mean "(\w+)"', text)
    bad = [a for a in argv[1:] if re.match(rf'--config(\.\w+)*\.{re.escape(missing)}\b', a)]
    flag = bad[0].split('=')[0] if bad else None
    moved = _moved_to(missing, flag)
    hint = (f' (it lives in a section now: --config.{moved})' if moved
            else f' (did you mean {suggestion.group(1)!r}?)' if suggestion else '')
    fail(f'unknown config key {missing!r}' + (f' in {flag}' if flag else '') + hint
         + '; see the config file for the keys')
  except OSError as e:  # ml_collections: the config file failed to load.
    fail(_config_load_error(e, argv))
  except UserError as e:
    fail(str(e))
  except Exception as e:  # pylint: disable=broad-except
    fail(f'bad command line: {type(e).__name__}: {e}')
  if wants_help:
    if 'config' in flags.FLAGS and flags.FLAGS['config'].value is not None:
      try:
        config_value(flags.FLAGS['config'])  # a --config that failed to load is an error
      except UserError as e:
        fail(str(e))
    print(usage())
    sys.exit(0)
  return remaining


def usage() -> str:
  """The entry point's docstring and flags, and the keys of the --config given
  (with their defaults), for --help."""
  main = sys.modules['__main__']
  parts = [(main.__doc__ or '').strip(), 'flags:', flags.FLAGS.main_module_help().strip()]
  config = flags.FLAGS['config'].value if 'config' in flags.FLAGS else None
  if isinstance(config, ml_collections.ConfigDict):
    from dl_course.config import flat_items  # pylint: disable=import-outside-toplevel
    parts += [f'keys of --config={config_given(sys.argv)} (override with '
              '--config.<key>=<value>; these are its values):',
              '\n'.join(f'  --config.{key}={value!r}' for key, value in flat_items(config))]
  elif 'config' in flags.FLAGS:
    parts.append('give --config=FILE as well to list that config\'s keys and defaults')
  return '\n\n'.join(part for part in parts if part)


def config_given(argv) -> str:
  return next((a.split('=', 1)[1] for a in argv if a.startswith('--config=')), '?')


def _config_load_error(error: Exception, argv) -> str:
  cause = error.__cause__ or error
  if isinstance(cause, UserError):  # get_config rejected its argument.
    return str(cause)
  given = config_given(argv)
  detail = [line.strip() for line in str(cause).splitlines() if line.strip()][-1]
  return f'--config={given} could not be loaded: {detail}'


def config_value(config_flag) -> ml_collections.ConfigDict:
  """The loaded config, or a one-line error if --config was missing or failed to load."""
  config = config_flag.value
  if config is None:
    raise UserError('--config is required: --config=experiments/configs/<name>.py[:arg]')
  if not isinstance(config, ml_collections.ConfigDict):
    try:
      config.seed  # _ErrorConfig raises the load failure on any access.
    except OSError as e:
      raise UserError(_config_load_error(e, sys.argv)) from None
  return config


class _StorageFailureLogs(std_logging.Filter):
  """Drops Orbax's thread logs of a write the disk refused (a traceback each): the
  checkpointer turns that failure into the run's one error line."""

  def filter(self, record: std_logging.LogRecord) -> bool:
    return not ('/orbax/' in record.pathname and storage_cause(Exception(record.getMessage())))


def run(main: Callable[[list[str]], None]) -> None:
  """app.run with one-line errors for user mistakes, and the persistent compilation cache on."""
  compilation_cache.enable()

  def guarded(argv):
    logging.set_verbosity(logging.WARNING)
    for handler in std_logging.getLogger().handlers + [logging.get_absl_handler()]:
      handler.addFilter(_StorageFailureLogs())
    try:
      main(argv)
    except UserError as e:
      fail(str(e))
    except TrainingDivergedError as e:
      fail(str(e), EXIT_DIVERGED)
    except StorageError as e:
      fail(str(e), EXIT_FAULT)
    except OSError as e:  # a write refused outside the records' own guards
      if storage_cause(e) is None:
        raise
      fail(f'cannot write {e.filename or "a file"}: {storage_cause(e)}', EXIT_FAULT)

  app.run(guarded, flags_parser=_parse_flags)
