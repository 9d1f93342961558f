"""What a config's docstring promises: its two commands (full, then quick) and,
for each, the expected result: `Expected: test accuracy >= N %` (classifiers)
or `Expected: reproduced K of K claims` (studies that check their own claims).

The study launchers check the claim counts of every run they make against
these promises, so `launch.reproduce` in CI holds each docstring to its word.
"""
from __future__ import annotations

import importlib
import re

COMMAND = re.compile(r'^\s*(python -m experiments\.\S+ .*)$', re.M)
ACCURACY = re.compile(r'Expected: test accuracy >= ([\d.]+) %')
CLAIMS = re.compile(r'Expected: reproduced (\d+) of (\d+) claims')
QUICK_MARKER = 'Quick variant'


def docstring(config_module: str) -> str:
  return importlib.import_module(f'experiments.configs.{config_module}').__doc__ or ''


def variant_text(doc: str, full: bool) -> str:
  """The part of the docstring about the full (before 'Quick variant') or quick variant."""
  parts = doc.split(QUICK_MARKER)
  return parts[0] if full else parts[-1]


def promised_claims(config_module: str, full: bool) -> int | None:
  """K of `Expected: reproduced K of K claims` for that variant; None if it promises none."""
  found = CLAIMS.search(variant_text(docstring(config_module), full))
  return int(found.group(1)) if found else None


def check_claim_count(config_module: str, full: bool, claims: list) -> None:
  """Raises if a run made a different number of claims than its docstring promises."""
  promised = promised_claims(config_module, full)
  if promised is not None and promised != len(claims):
    variant = 'full' if full else 'quick'
    raise RuntimeError(f'experiments/configs/{config_module}.py ({variant}) promises '
                       f'{promised} claims, the run made {len(claims)}')
