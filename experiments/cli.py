"""What every experiment script shares: flag parsing and error handling.

User mistakes (a bad flag, an unknown config key, a value out of range, a
missing dataset, an unwritable workdir) print one line `error: ...` to stderr
and exit with status 2, without a traceback. A diverged run exits with 1.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable

from absl import app, flags, logging
import ml_collections

from dl_course.errors import TrainingDivergedError, UserError

__all__ = ['UserError', 'config_value', 'fail', 'run']

EXIT_USAGE = 2
EXIT_DIVERGED = 1


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


def _parse_flags(argv: list[str]) -> list[str]:
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(str(e).splitlines()[0])
  except (AttributeError, KeyError) as e:  # ml_collections: an override of a missing key.
    # The message is the key, possibly quoted and followed by 'Did you mean "x"...'.
    text = str(e.args[0]) if e.args else str(e)
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


def _config_load_error(error: Exception, argv) -> str:
  cause = error.__cause__ or error
  if isinstance(cause, UserError):  # get_config rejected its argument.
    return str(cause)
  given = next((a.split('=', 1)[1] for a in argv if a.startswith('--config=')), '?')
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


def run(main: Callable[[list[str]], None]) -> None:
  """app.run with one-line errors for user mistakes."""

  def guarded(argv):
    logging.set_verbosity(logging.WARNING)
    try:
      main(argv)
    except UserError as e:
      fail(str(e))
    except TrainingDivergedError as e:
      fail(str(e), EXIT_DIVERGED)

  app.run(guarded, flags_parser=_parse_flags)
