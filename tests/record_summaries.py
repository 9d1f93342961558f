"""Records each study's summary from a `launch.reproduce` run, for
tests/test_claims_fail.py (which needs a real summary to fall short of).

  python -m launch.reproduce all --workdir=DIR
  python -m tests.record_summaries DIR

writes tests/data/summaries/<study>.json: the config argument the summary came
from (its quick variant, as CI runs it), the summary (several seeds averaged
as `launch.reproduce` averages them) and where it was recorded.
"""
from __future__ import annotations

import json
import pathlib
import platform
import subprocess
import sys

from dl_course.studies import load_summary, mean_summary
from experiments import registry
from launch.reproduce import variant_dir

OUT = pathlib.Path(__file__).resolve().parent / 'data' / 'summaries'


def main(workdir: str) -> None:
  workdir = pathlib.Path(workdir)
  commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                          text=True, check=False).stdout.strip()
  OUT.mkdir(parents=True, exist_ok=True)
  for name, study in registry.STUDIES.items():
    args = study.reproduce_args[0]
    dirs = [variant_dir(workdir, study, arg, args) for arg in args]
    if not all((d / 'summary.json').exists() for d in dirs):
      print(f'{name}: no summary in {dirs[0]}; skipped')
      continue
    summaries = [load_summary(d) for d in dirs]
    summary = summaries[0] if len(summaries) == 1 else mean_summary(summaries)
    record = {'study': name, 'config_args': list(args),
              'recorded': f'python -m launch.reproduce {study.family} at {commit}, '
                          f'{platform.machine()} CPU',
              'summary': summary}
    (OUT / f'{name}.json').write_text(json.dumps(record, indent=1, sort_keys=True) + '\n')
    print(f'{name}: {len(json.dumps(summary)):,} bytes')


if __name__ == '__main__':
  main(sys.argv[1])
