"""Config helpers shared by every study: the `:arg` string and value checks.

A config file's `get_config(arg)` receives the text after the colon in
`--config=path.py:arg`, e.g. `quick` or `quick,model=gru`. `parse_config_arg`
turns it into a dict and rejects keys the config does not know.
"""
from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Any

import ml_collections

from dl_course.errors import ConfigError, UserError


def parse_config_arg(arg: str | None, allowed: Mapping[str, type]) -> dict[str, Any]:
  """Parses 'flag,key=value' into a dict typed by `allowed` (name -> type)."""
  parsed: dict[str, Any] = {}
  for item in filter(None, (arg or '').split(',')):
    key, sep, raw = item.partition('=')
    key = key.strip()
    if key not in allowed:
      raise UserError(
          f'config argument {key!r} is unknown; allowed: {", ".join(sorted(allowed))}')
    kind = allowed[key]
    if not sep:
      if kind is not bool:
        raise UserError(f'config argument {key!r} needs a value: {key}=<{kind.__name__}>')
      parsed[key] = True
      continue
    try:
      parsed[key] = _parse_bool(raw) if kind is bool else kind(raw)
    except ValueError:
      raise UserError(
          f'config argument {key}={raw!r} is not a valid {kind.__name__}') from None
  return parsed


def _parse_bool(raw: str) -> bool:
  lowered = raw.strip().lower()
  if lowered in ('1', 'true', 'yes'):
    return True
  if lowered in ('0', 'false', 'no'):
    return False
  raise ValueError(raw)


def check_choice(config, key: str, choices: Collection[str]) -> None:
  value = get_path(config, key)
  if value not in choices:
    raise ConfigError(key, value, 'one of ' + ', '.join(sorted(map(str, choices))))


def check_range(config, key: str, low=None, high=None, *, low_open=False,
                integer=False) -> None:
  """Checks low <= value <= high (low < value with low_open)."""
  value = get_path(config, key)
  if integer and (isinstance(value, bool) or not isinstance(value, int)):
    raise ConfigError(key, value, 'an integer')
  if not integer and (isinstance(value, bool) or not isinstance(value, (int, float))):
    raise ConfigError(key, value, 'a number')
  too_low = low is not None and (value <= low if low_open else value < low)
  too_high = high is not None and value > high
  if too_low or too_high:
    lower = '' if low is None else (f'> {low}' if low_open else f'>= {low}')
    upper = '' if high is None else f'<= {high}'
    raise ConfigError(key, value, ' and '.join(filter(None, (lower, upper))))


def check_multiple(config, key: str, of: str) -> None:
  """config[key] must be a whole number of config[of] (e.g. num_steps of eval_every:
  the loops log, evaluate and check for NaNs on that grid)."""
  value, unit = get_path(config, key), get_path(config, of)
  if value % unit:
    raise ConfigError(key, value, f'a multiple of {of} ({unit})')


def check_number_list(config, key: str, low=None, high=None, *, low_open=False,
                      integer=False) -> None:
  """A non-empty list/tuple whose every entry passes check_range's test."""
  values = get_path(config, key)
  kind = 'integers' if integer else 'numbers'
  bounds = ' and '.join(filter(None, (
      '' if low is None else (f'> {low}' if low_open else f'>= {low}'),
      '' if high is None else f'<= {high}')))
  allowed = f'a non-empty list of {kind}' + (f' {bounds}' if bounds else '')
  if not isinstance(values, (list, tuple)) or not values:
    raise ConfigError(key, values, allowed)
  for value in values:
    wrong_type = isinstance(value, bool) or not isinstance(value, int if integer else (int, float))
    too_low = low is not None and not wrong_type and (value <= low if low_open else value < low)
    too_high = high is not None and not wrong_type and value > high
    if wrong_type or too_low or too_high:
      raise ConfigError(key, values, allowed)


def check_claim_section(config) -> None:
  """`config.claim`, where a study keeps its claims' thresholds: each entry a
  number, an interval [low, high] of numbers, or a string (a source)."""
  if 'claim' not in config:
    return
  for key, value in config.claim.items():
    if isinstance(value, str) or _is_number(value):
      continue
    if (isinstance(value, (list, tuple)) and len(value) == 2
        and all(_is_number(v) for v in value) and value[0] <= value[1]):
      continue
    raise ConfigError(f'claim.{key}', value, 'a number, or an interval (low, high) of '
                      'numbers with low <= high')


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def get_path(config, dotted_key: str):
  node = config
  for part in dotted_key.split('.'):
    node = node[part]
  return node


def to_json_dict(config: ml_collections.ConfigDict) -> dict:
  """A plain-JSON view of a config (tuples become lists)."""
  return ml_collections.ConfigDict(config).to_dict()


# JAX's default integers are 32-bit: a step count, a size or an index past this
# overflows inside a jitted computation.
INT32_MAX = 2**31 - 1


def flat_items(tree, prefix: str = ''):
  """(dotted key, value) for every leaf of a config or dict."""
  for key, value in tree.items():
    if isinstance(value, (dict, ml_collections.ConfigDict)):
      yield from flat_items(value, f'{prefix}{key}.')
    else:
      yield prefix + key, value


def check_like_default(config, default, kind: str, start_from: str) -> None:
  """Refuses a config that is not of `kind` (a top-level key of its default is
  missing), an integer past 32 bits, or a list whose entries are not of the
  default's type (`--config.model.hidden_sizes=abc` parses as ('abc',))."""
  missing = sorted(set(default) - set(config))
  if missing:
    shown = ', '.join(missing[:4]) + (f' and {len(missing) - 4} more' if len(missing) > 4 else '')
    raise UserError(f'--config is not a {kind} config: it has no {shown}; '
                    f'start from {start_from}')
  defaults = dict(flat_items(default))
  for key, value in flat_items(config):
    for number in (value if isinstance(value, (list, tuple)) else (value,)):
      if isinstance(number, int) and not isinstance(number, bool) and abs(number) > INT32_MAX:
        raise ConfigError(key, value, f'at most {INT32_MAX:,} in size: JAX counts steps '
                          'and indices in 32-bit integers')
    kind_of_entries = _entry_type(defaults.get(key))
    if kind_of_entries is None:
      continue
    entries = value if isinstance(value, (list, tuple)) else (value,)
    if not isinstance(value, (list, tuple)) or not all(
        _is_instance(entry, kind_of_entries) for entry in entries):
      raise ConfigError(key, value, f'a list of {kind_of_entries.__name__}s like the '
                        f'default {tuple(defaults[key])!r}')


def _entry_type(default_value) -> type | None:
  """The one type of a non-empty default list's entries (None if not such a list)."""
  if not isinstance(default_value, (list, tuple)) or not default_value:
    return None
  kinds = {type(entry) for entry in default_value}
  if kinds == {int, float}:
    return float
  return kinds.pop() if len(kinds) == 1 and kinds <= {int, float, str, bool} else None


def _is_instance(entry, kind: type) -> bool:
  if kind is float:
    return _is_number(entry)
  if kind is int:
    return isinstance(entry, int) and not isinstance(entry, bool)
  return isinstance(entry, kind)


def available_memory() -> int:
  """Bytes of memory this process can still get (MemAvailable, else free pages)."""
  try:
    for line in open('/proc/meminfo', encoding='ascii'):
      if line.startswith('MemAvailable:'):
        return int(line.split()[1]) * 1024
  except OSError:
    pass
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_AVPHYS_PAGES')


def check_fits_in_memory(what: str, nbytes: int, keys: str) -> None:
  """Refuses, before any allocation, an array the machine cannot hold: a run that
  asks for it would be killed by the kernel or swap for hours instead."""
  free = available_memory()
  if nbytes > free:
    raise UserError(f'{what} needs {nbytes / 2**30:,.1f} GiB, more than the '
                    f'{free / 2**30:,.1f} GiB of memory free on this machine; lower {keys}')
