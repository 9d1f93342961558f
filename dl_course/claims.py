"""Published claims and the table that `python -m launch.reproduce <study>` prints.

A study registers a function `claims(full: bool, workdir) -> list[Claim]`; the
reproduce command prints claim | target | ours | pass and a last line
`reproduced K of N claims`.
"""
from __future__ import annotations

import dataclasses
import sys


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
