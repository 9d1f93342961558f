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

__all__ = ["UserError", "config_value", "fail", "run"]

EXIT_USAGE = 2
EXIT_DIVERGED = 1


def fail(message: str, code: int = EXIT_USAGE):
  print(f'error: {message}', file=sys.stderr, flush=True)
  sys.exit(code)


def _parse_flags(argv: list[str]) -> list[str]:
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(str(e).splitlines()[0])
  except (AttributeError, KeyError) as e:  # ml_collections: an override of a missing key.
    missing = str(e).strip('"\'')
    bad = [a for a in argv[1:] if re.match(rf'--config(\.\w+)*\.{re.escape(missing)}\b', a)]
    fail(f'unknown config key {missing!r}'
         + (f' in {bad[0].split("=")[0]}' if bad else '') + '; see the config file for the keys')
  except Exception as e:  # pylint: disable=broad-except
    fail(f'bad command line: {type(e).__name__}: {e}')


def config_value(config_flag) -> ml_collections.ConfigDict:
  """The loaded config, or a one-line error if --config was missing or failed to load."""
  config = config_flag.value
  if config is None:
    raise UserError('--config is required: --config=experiments/configs/<name>.py[:arg]')
  if not isinstance(config, ml_collections.ConfigDict):
    try:
      config.seed  # _ErrorConfig raises the load failure on any access.
    except IOError as e:
      cause = e.__cause__ or e
      if isinstance(cause, UserError):
        raise UserError(str(cause)) from None
      raise UserError(f'--config={flags.FLAGS["config"].serialize().split("=", 1)[-1]} '
                      f'could not be loaded: {type(cause).__name__}: {cause}') from None
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
