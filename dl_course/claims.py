"""Published claims and the table that `python -m launch.reproduce <study>` prints.

A study's `claims(config, summary) -> list[Claim]` checks its summary against
thresholds kept in `config.claim`. Each row is one of two kinds:

  finding   an empirical result that could come out the other way (an accuracy
            reached, one method beating another, a published trend);
  check     an identity or theorem that fails only on a bug (hand-written
            backprop = jax.grad, Grad-CAM = CAM on a GAP network, the IWAE
            bound above the ELBO, frozen layers unchanged).

The table is claim | kind | target | published (source) | ours | pass. `target` is
what the row tests; `published` is the paper's figure with its source, kept
apart, so a row never borrows a figure it does not test (a quick row says
`quick` and tests its own, lower target). The last lines count the two kinds
apart, findings last: `reproduced K of N claims`.
"""
from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable

import ml_collections

FINDING = 'finding'
CHECK = 'check'
NOT_PUBLISHED = '-'


@dataclasses.dataclass(frozen=True)
class Claim:
  claim: str
  target: str
  ours: str
  passed: bool
  kind: str = dataclasses.field(kw_only=True)
  published: str = dataclasses.field(default=NOT_PUBLISHED, kw_only=True)

  def __post_init__(self):
    if self.kind not in (FINDING, CHECK):
      raise ValueError(f'claim {self.claim!r}: kind must be {FINDING!r} or {CHECK!r}, '
                       f'not {self.kind!r}')


def at_least(claim: str, value: float, threshold: float, *, kind: str,
             published: str = NOT_PUBLISHED, unit: str = '', scale: float = 1.0,
             digits: int = 1, fmt: str = 'f') -> Claim:
  """`value >= threshold`, shown as value * scale (e.g. scale=100 for percent)."""
  shown = f'{value * scale:.{digits}{fmt}}{unit}'
  target = f'>= {threshold * scale:.{digits}{fmt}}{unit}'
  return Claim(claim, target, shown, bool(value >= threshold), kind=kind, published=published)


def at_most(claim: str, value: float, threshold: float, *, kind: str,
            published: str = NOT_PUBLISHED, unit: str = '', scale: float = 1.0,
            digits: int = 1, fmt: str = 'f') -> Claim:
  """`value <= threshold`; fmt='e' shows small quantities such as errors in exponent form."""
  shown = f'{value * scale:.{digits}{fmt}}{unit}'
  target = f'<= {threshold * scale:.{digits}{fmt}}{unit}'
  return Claim(claim, target, shown, bool(value <= threshold), kind=kind, published=published)


def between(claim: str, value: float, low: float, high: float, *, kind: str,
            published: str = NOT_PUBLISHED, unit: str = '', digits: int = 2) -> Claim:
  shown = f'{value:.{digits}f}{unit}'
  target = f'in [{low:.{digits}f}, {high:.{digits}f}]{unit}'
  return Claim(claim, target, shown, bool(low <= value <= high), kind=kind, published=published)


def as_quick(claims: list[Claim]) -> list[Claim]:
  """The rows of a quick (reduced-scale) run: each target says it is the quick one."""
  return [dataclasses.replace(c, target=f'quick: {c.target}') for c in claims]


def format_rows(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
  """A plain-text table: columns padded to width, `|` between, a rule under the header."""
  rows = [header, *rows]
  widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
  lines = [' | '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
  lines.insert(1, '-+-'.join('-' * w for w in widths))
  return '\n'.join(lines)


HEADER = ('claim', 'kind', 'target', 'published (source)', 'ours', 'pass')


def row(claim: Claim) -> tuple[str, ...]:
  return (claim.claim, claim.kind, claim.target, claim.published, claim.ours,
          'pass' if claim.passed else 'FAIL')


def count_lines(claims: list[Claim]) -> list[str]:
  """`checks: J of M passed` (when there are checks), then `reproduced K of N claims`
  over the findings."""
  findings = [c for c in claims if c.kind == FINDING]
  checks = [c for c in claims if c.kind == CHECK]
  lines = [f'checks (identities that fail only on a bug): {sum(c.passed for c in checks)} of '
           f'{len(checks)} passed'] if checks else []
  return lines + [f'reproduced {sum(c.passed for c in findings)} of {len(findings)} claims']


def format_table(claims: list[Claim]) -> str:
  return '\n'.join([format_rows(HEADER, [row(c) for c in claims]), *count_lines(claims)])


def all_passed(claims: list[Claim]) -> bool:
  return bool(claims) and all(c.passed for c in claims)


def report(claims: list[Claim], out=sys.stdout) -> int:
  """Prints the table; returns the exit status (0 only if every claim, of either kind, passed)."""
  print(format_table(claims), file=out, flush=True)
  return 0 if all_passed(claims) else 1


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
