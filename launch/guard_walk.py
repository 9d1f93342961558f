"""Every registered study, forced to diverge, must stop with one line and exit 1.

  python -m launch.guard_walk [family|study|all][,...] [--jobs=2] [--timeout=300]

For each study, runs its quick config through the real entry point with the
study's `diverge` overrides (a learning rate of 1e30 or larger, and few steps):

  python -m experiments.main --config=<config>:quick --workdir=<tmp> --config.<k>=<v> ...

and passes when the child exits 1 and prints exactly one line on stderr (besides
its progress bar),
`error: training diverged: metric '<name>' is <value> at step <N>; ...`, with no
traceback. Studies that train nothing (`trains_nothing`) are listed, not run. Each
child has a hard timeout: a hang fails, nothing is rerun. Prints one row a
study and `K of N studies stop on divergence`; exits non-zero if any fails.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

from absl import flags

from dl_course.claims import format_rows
from dl_course.studies import Study
from experiments import cli, registry

_JOBS = flags.DEFINE_integer('jobs', 2, 'Studies run at the same time.', lower_bound=1)
_TIMEOUT = flags.DEFINE_float('timeout', 300.0, 'Seconds a study may take before it fails '
                              '(a hang is a bug).', lower_bound=1.0)

ONE_LINE = re.compile(r"^error: training diverged: metric '[^']+' is \S+ at step \d+; .+$")
# A tqdm bar's redraws (`  40%|████      | 40/100 [00:01<00:02, 30.1step/s]`): not messages.
PROGRESS_BAR = re.compile(r'^\s*\d+%\|.*\| *\d+/\d+ \[')
REPO = pathlib.Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Outcome:
  study: str
  passed: bool
  seconds: float
  detail: str


def diverge_command(study: Study, workdir: pathlib.Path) -> list[str]:
  return [sys.executable, '-m', 'experiments.main', f'--config={study.config_path}:quick',
          f'--workdir={workdir}', *(f'--config.{o}' for o in study.diverge)]


def check(study: Study, root: pathlib.Path, timeout: float) -> Outcome:
  """Runs one study with its diverge overrides; passes on exit 1 with one line."""
  start = time.time()
  command = diverge_command(study, root / study.name)
  try:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, 'PYTHONPATH': str(REPO)})
  except subprocess.TimeoutExpired:
    return Outcome(study.name, False, time.time() - start, f'no exit within {timeout:.0f} s')
  lines = [line for line in done.stderr.splitlines()
           if line.strip() and not PROGRESS_BAR.match(line)]
  seconds = time.time() - start
  if done.returncode == 1 and len(lines) == 1 and ONE_LINE.match(lines[0]):
    return Outcome(study.name, True, seconds, lines[0].removeprefix('error: training diverged: '))
  shown = lines[-1] if lines else '(nothing on stderr)'
  return Outcome(study.name, False, seconds,
                 f'exit {done.returncode}, {len(lines)} stderr lines, last: {shown[:160]}')


def walk(studies: list[Study], jobs: int, timeout: float) -> list[Outcome]:
  runnable = [s for s in studies if s.diverge]
  with tempfile.TemporaryDirectory(prefix='guard_walk_') as root, \
      concurrent.futures.ThreadPoolExecutor(jobs) as pool:
    futures = {pool.submit(check, s, pathlib.Path(root), timeout): s for s in runnable}
    outcomes = {}
    for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
      outcome = future.result()
      outcomes[outcome.study] = outcome
      print(f'[{i}/{len(runnable)}] {outcome.study}: {"ok" if outcome.passed else "FAIL"} '
            f'in {outcome.seconds:.0f} s', flush=True)
  return [outcomes[s.name] for s in runnable]


def main(argv):
  names = argv[1] if len(argv) > 1 else 'all'
  if len(argv) > 2:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[2:])}')
  studies = registry.select(names.split(","))
  outcomes = walk(studies, _JOBS.value, _TIMEOUT.value)
  rows = [(o.study, 'stops: ' + o.detail if o.passed else o.detail, 'yes' if o.passed else 'NO')
          for o in outcomes]
  rows += [(s.name, f'not run: trains nothing ({s.trains_nothing})', '-')
           for s in studies if not s.diverge]
  print(format_rows(('study', 'forced divergence', 'pass'), rows))
  passed = sum(o.passed for o in outcomes)
  print(f'{passed} of {len(outcomes)} studies stop on divergence with one line and exit 1')
  if passed < len(outcomes):
    sys.exit(1)


if __name__ == '__main__':
  cli.run(main)
