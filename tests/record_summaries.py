"""Records each study's summary from a `launch.reproduce` run, for
tests/test_claims_fail.py (which needs a real summary to fall short of).

  python -m launch.reproduce all --workdir=DIR
  python -m tests.record_summaries DIR

writes tests/data/summaries/<study>.json: the config argument the summary came
from (its quick variant, as CI runs it), the summary (several seeds averaged
as `launch.reproduce` averages them) and where it was recorded. Entries the
claims never read (images, samples and curves kept for the figures) are left
out: an entry goes when the claims come out the same without it.
"""
from __future__ import annotations

import copy
import json
import pathlib
import platform
import sys

from dl_course.studies import load_summary, mean_summary
from experiments import registry
from launch.reproduce import variant_dir

OUT = pathlib.Path(__file__).resolve().parent / 'data' / 'summaries'


def _entries(tree, path=()):
  """(path, size in characters) of every dict entry, largest first."""
  found = []
  if isinstance(tree, dict):
    for key, value in tree.items():
      found.append(((*path, key), len(json.dumps(value))))
      found += _entries(value, (*path, key))
  elif isinstance(tree, list):
    for i, value in enumerate(tree):
      found += _entries(value, (*path, i))
  return sorted(found, key=lambda item: -item[1])


def without_unread_entries(study, config, summary, min_size: int = 2000) -> dict:
  """The summary without the entries of at least `min_size` characters whose
  removal leaves the claims exactly as they were."""
  expected = study.claims(config, summary)
  for path, size in _entries(summary):
    if size < min_size:
      break
    trial = copy.deepcopy(summary)
    node = trial
    try:
      for step in path[:-1]:
        node = node[step]
      del node[path[-1]]
      same = study.claims(config, trial) == expected
    except Exception:  # pylint: disable=broad-except  # the claims read it
      same = False
    if same:
      summary = trial
  return summary


def main(workdir: str) -> None:
  workdir = pathlib.Path(workdir)
  if not workdir.is_dir():
    sys.exit(f'error: {workdir} is not a folder; give the --workdir of a launch.reproduce run')
  recorded = 0
  OUT.mkdir(parents=True, exist_ok=True)
  for name, study in registry.STUDIES.items():
    args = study.reproduce_args[0]
    dirs = [variant_dir(workdir, study, arg, args) for arg in args]
    if not all((d / 'summary.json').exists() for d in dirs):
      print(f'{name}: no summary in {dirs[0]}; skipped')
      continue
    summaries = [load_summary(d) for d in dirs]
    summary = summaries[0] if len(summaries) == 1 else mean_summary(summaries)
    summary = without_unread_entries(study, study.get_config(args[-1]), summary)
    git = json.loads((dirs[0] / 'manifest.json').read_text()).get('git', {})
    commit = git.get('sha', '?')[:7] + (' (with uncommitted changes)' if git.get('dirty') else '')
    record = {'study': name, 'config_args': list(args),
              'recorded': f'python -m launch.reproduce {study.family} at {commit}, '
                          f'{platform.machine()} CPU',
              'summary': summary}
    (OUT / f'{name}.json').write_text(json.dumps(record, sort_keys=True) + '\n')
    print(f'{name}: {len(json.dumps(summary)):,} bytes')
    recorded += 1
  if not recorded:
    sys.exit(f'error: no study summary in {workdir}; give the --workdir of a launch.reproduce run')


if __name__ == '__main__':
  main(sys.argv[1])
