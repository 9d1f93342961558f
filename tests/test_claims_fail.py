"""Every study's claims can FAIL: from a real summary that passes (recorded by
tests/record_summaries.py from `launch.reproduce`), the search below changes
one number of the summary at a time (scaled, negated, shifted, zeroed, made
huge; one entry of a list, or the whole list), or the same number under every
sibling entry (every optimizer's final accuracy, every dataset's LL: a claim
over the best or over K of N needs them all to fall short), until each claim
row reports FAIL, and the table's exit status turns non-zero. A row that no
such change can fail is a row that cannot fail, and its study's test fails
naming it.
"""
from __future__ import annotations

import copy
import io
import json
import math
import pathlib
import warnings

import pytest

from dl_course.claims import report, ungated_thresholds
from experiments import registry

SUMMARIES = pathlib.Path(__file__).resolve().parent / 'data' / 'summaries'


def _scalar_changes(value: float) -> list:
  changes = [0.0, -value, 0.5 * value, 2.0 * value, 10.0 * value, 0.1 * value,
             value + 1.0, value - 1.0, 1e6, -1e6, None]
  return [c for c in changes if c is None or (math.isfinite(c) and c != value)]


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _paths(tree, prefix=()):
  """(path, value) of every number, bool, None and list of numbers in the tree."""
  if isinstance(tree, dict):
    for key, value in tree.items():
      yield from _paths(value, (*prefix, key))
  elif isinstance(tree, list):
    if tree and all(_is_number(v) or v is None for v in tree):
      yield prefix, tree
      if len(tree) > 1:
        yield (*prefix, 0), tree[0]
        yield (*prefix, len(tree) - 1), tree[-1]
    else:
      for i, value in enumerate(tree):
        yield from _paths(value, (*prefix, i))
  elif _is_number(tree) or isinstance(tree, bool) or tree is None:
    yield prefix, tree


def _changes(value) -> list:
  if isinstance(value, bool):
    return [not value]
  if value is None:
    return [0, 1, 100]
  if _is_number(value):
    return _scalar_changes(float(value))
  numbers = [v for v in value if v is not None]
  return [[None if v is None else scale * v + shift for v in value]
          for scale, shift in ((0.0, 0.0), (-1.0, 0.0), (0.5, 0.0), (2.0, 0.0), (10.0, 0.0),
                               (1.0, 1.0), (1.0, -1.0))
          if numbers]


def _with(tree, paths, value):
  changed = copy.deepcopy(tree)
  for path in paths:
    node = changed
    for step in path[:-1]:
      node = node[step]
    node[path[-1]] = value
  return changed


def _get(tree, path):
  for step in path:
    tree = tree[step]
  return tree


def _sibling_sets(tree, path) -> list[tuple]:
  """The path alone, then for each dict above its leaf the same path under every
  key of that dict (where it exists)."""
  sets = [(path,)]
  for level in range(len(path) - 1):
    parent = _get(tree, path[:level])
    if not isinstance(parent, dict):
      continue
    siblings = []
    for key in parent:
      candidate = (*path[:level], key, *path[level + 1:])
      try:
        _get(tree, candidate)
      except (KeyError, IndexError, TypeError):
        continue
      siblings.append(candidate)
    if len(siblings) > 1:
      sets.append(tuple(siblings))
  return sets


def failing_changes(claims, config, summary) -> dict[int, tuple]:
  """For each claim row that some single change of the summary makes FAIL, the
  first such change (path, value)."""
  rows = len(claims(config, summary))
  found = {}
  with warnings.catch_warnings():  # a changed summary may be degenerate (a constant series)
    warnings.simplefilter('ignore')
    return _search(claims, config, summary, rows, found)


def _search(claims, config, summary, rows: int, found: dict) -> dict:
  for path, value in _paths(summary):
    for paths in _sibling_sets(summary, path):
      for change in _changes(value):
        try:
          verdicts = [c.passed for c in claims(config, _with(summary, paths, change))]
        except Exception:  # pylint: disable=broad-except  # a change a claim cannot take
          continue
        # A change may add or drop a conditional row at the end (random labels: the
        # slowdown row needs every p fitted); the rows before it keep their places.
        for row, passed in enumerate(verdicts[:rows]):
          if not passed and row not in found:
            found[row] = (paths, change)
        if len(found) == rows:
          return found
  return found


def _recorded(name: str) -> dict:
  path = SUMMARIES / f'{name}.json'
  if not path.exists():
    pytest.fail(f'{name}: no recorded summary in {path}; record one with '
                'tests/record_summaries.py')
  return json.loads(path.read_text())


@pytest.mark.parametrize('name', sorted(registry.STUDIES))
def test_claims_of_the_study_can_fail(name):
  study = registry.STUDIES[name]
  recorded = _recorded(name)
  config = study.get_config(recorded['config_args'][-1])
  summary = recorded['summary']
  claims = study.claims(config, summary)
  assert claims, f'{name}: no claims'
  assert report(claims, io.StringIO()) == 0, f'{name}: the recorded summary should pass'
  assert ungated_thresholds(study.claims, config, summary) == [], (
      f'{name}: config.claim thresholds that decide no claim')
  found = failing_changes(study.claims, config, summary)
  never = [claims[row].claim for row in range(len(claims)) if row not in found]
  assert not never, f'{name}: no change of the summary fails {never}'
  paths, value = found[0]
  short = study.claims(config, _with(summary, paths, value))
  assert not short[0].passed and report(short, io.StringIO()) == 1


def test_the_search_finds_a_claim_that_cannot_fail():
  """The test above can itself fail: a claim whose verdict ignores the summary."""
  from dl_course.claims import FINDING, Claim  # pylint: disable=import-outside-toplevel

  def claims(config, summary):
    del config
    return [Claim('accuracy', '>= 0.9', f'{summary["accuracy"]}', summary['accuracy'] >= 0.9,
                  kind=FINDING),
            Claim('always', '-', '-', True, kind=FINDING)]

  found = failing_changes(claims, None, {'accuracy': 0.95, 'curve': [0.1, 0.5, 0.95]})
  assert set(found) == {0}
