"""Config helpers shared by every study: the `:arg` string and value checks.

A config file's `get_config(arg)` receives the text after the colon in
`--config=path.py:arg`, e.g. `quick` or `quick,model=gru`. `parse_config_arg`
turns it into a dict and rejects keys the config does not know.
"""
from __future__ import annotations

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
