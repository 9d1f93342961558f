"""Published claims and the table that `python -m launch.reproduce <study>` prints.

A study's `claims(config, summary) -> list[Claim]` checks its summary against
thresholds kept in `config.claim`; the reproduce command prints claim | target |
ours | pass and a last line `reproduced K of N claims`.
"""
from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable

import ml_collections


@dataclasses.dataclass(frozen=True)
class Claim:
  claim: str
  target: str
  ours: str
  passed: bool


def at_least(claim: str, value: float, threshold: float, *, unit: str = '',
             scale: float = 1.0, digits: int = 1, source: str = '', fmt: str = 'f') -> Claim:
  """`value >= threshold`, shown as value * scale (e.g. scale=100 for percent)."""
  shown = f'{value * scale:.{digits}{fmt}}{unit}'
  target = f'>= {threshold * scale:.{digits}{fmt}}{unit}' + (f' ({source})' if source else '')
  return Claim(claim, target, shown, bool(value >= threshold))


def at_most(claim: str, value: float, threshold: float, *, unit: str = '',
            scale: float = 1.0, digits: int = 1, source: str = '', fmt: str = 'f') -> Claim:
  """`value <= threshold`; fmt='e' shows small quantities such as errors in exponent form."""
  shown = f'{value * scale:.{digits}{fmt}}{unit}'
  target = f'<= {threshold * scale:.{digits}{fmt}}{unit}' + (f' ({source})' if source else '')
  return Claim(claim, target, shown, bool(value <= threshold))


def between(claim: str, value: float, low: float, high: float, *, unit: str = '',
            digits: int = 2, source: str = '') -> Claim:
  shown = f'{value:.{digits}f}{unit}'
  target = f'in [{low:.{digits}f}, {high:.{digits}f}]{unit}' + (f' ({source})' if source else '')
  return Claim(claim, target, shown, bool(low <= value <= high))


def format_rows(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
  """A plain-text table: columns padded to width, `|` between, a rule under the header."""
  rows = [header, *rows]
  widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
  lines = [' | '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
  lines.insert(1, '-+-'.join('-' * w for w in widths))
  return '\n'.join(lines)


def format_table(claims: list[Claim]) -> str:
  rows = [(c.claim, c.target, c.ours, 'pass' if c.passed else 'FAIL') for c in claims]
  passed = sum(c.passed for c in claims)
  return (format_rows(('claim', 'target', 'ours', 'pass'), rows)
          + f'\nreproduced {passed} of {len(claims)} claims')


def report(claims: list[Claim], out=sys.stdout) -> int:
  """Prints the table; returns the exit status (0 only if every claim passed)."""
  print(format_table(claims), file=out, flush=True)
  return 0 if claims and all(c.passed for c in claims) else 1


EXTREME = 1e300


def ungated_thresholds(claims: Callable, config, summary: dict) -> list[str]:
  """The config.claim thresholds that decide nothing: moved to +1e300 and to
  -1e300 (an interval: both ends), neither flips a verdict of claims(config,
  summary). A study whose threshold is ungated has a claim that cannot fail."""
  if 'claim' not in config:
    return []
  verdicts = [c.passed for c in claims(config, summary)]
  ungated = []
  for key, value in config.claim.items():
    if isinstance(value, str):
      continue
    flipped = False
    for extreme in (EXTREME, -EXTREME):
      moved = copy.deepcopy(config)
      moved.claim = ml_collections.ConfigDict({  # a new section: an int key may take a float
          **config.claim.to_dict(),
          key: (extreme, extreme) if isinstance(value, (list, tuple)) else extreme})
      flipped |= [c.passed for c in claims(moved, summary)] != verdicts
    if not flipped:
      ungated.append(key)
  return ungated
