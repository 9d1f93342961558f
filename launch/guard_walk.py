"""Every registered study's guards, through the real entry point: a forced
divergence stops with one line and exit 1; a resumable study stopped and rerun
writes the very records of an uninterrupted run.

  python -m launch.guard_walk [family|study|all][,...] [--jobs=2] [--timeout=300]

For each study, runs its quick config through the real entry point with the
study's `diverge` overrides (a learning rate of 1e30 or larger, and few steps):

  python -m experiments.main --config=<config>:quick --workdir=<tmp> --config.<k>=<v> ...

and passes when the child exits 1 and prints exactly one line on stderr (besides
its progress bar),
`error: training diverged: metric '<name>' is <value> at step <N>; ...`, with no
traceback. Studies that train nothing (`trains_nothing`) are listed, not run.

For each resumable study, with its `resume_check` overrides (short chunks that
log): `--max_chunks=3` into one workdir; `--max_chunks=1`, then `--max_chunks=2`
into another (stop, then the same command resumes from the checkpoint for two
more chunks, across stage boundaries where the study has stages). The two
metrics.jsonl must be byte-identical and hold at least two records.

Each child has a hard timeout: a hang fails, nothing is rerun. Prints one row a
check and `K of N checks pass`; exits non-zero if any fails.
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


def study_command(study: Study, workdir: pathlib.Path, overrides, *flags_) -> list[str]:
  return [sys.executable, '-m', 'experiments.main', f'--config={study.config_path}:quick',
          f'--workdir={workdir}', *(f'--config.{o}' for o in overrides), *flags_]


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess:
  """The child under a hard timeout (subprocess.TimeoutExpired when it hangs)."""
  return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                        check=False, env={**os.environ, 'PYTHONPATH': str(REPO)})


def check(study: Study, root: pathlib.Path, timeout: float) -> Outcome:
  """Runs one study with its diverge overrides; passes on exit 1 with one line."""
  start = time.time()
  try:
    done = _run(study_command(study, root / study.name, study.diverge), timeout)
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


def check_resume(study: Study, root: pathlib.Path, timeout: float) -> Outcome:
  """Three chunks in one go vs one chunk, then the same command for two more."""
  start = time.time()
  straight, stopped = root / f'{study.name}_straight', root / f'{study.name}_stopped'
  try:
    runs = [_run(study_command(study, straight, study.resume_check, '--max_chunks=3'), timeout)]
    for chunks in (1, 2):
      runs.append(_run(study_command(study, stopped, study.resume_check,
                                     f'--max_chunks={chunks}'), timeout))
  except subprocess.TimeoutExpired:
    return Outcome(study.name, False, time.time() - start, f'no exit within {timeout:.0f} s')
  seconds = time.time() - start
  # Exit 3: the short chunks' claims failed, which this check does not judge.
  failed = next((r for r in runs if r.returncode not in (0, cli.EXIT_CLAIM_FAILED)), None)
  if failed is not None:
    last = (failed.stderr.strip().splitlines() or ['(nothing on stderr)'])[-1]
    return Outcome(study.name, False, seconds, f'exit {failed.returncode}: {last[:160]}')
  want, got = (_bytes(d / 'metrics.jsonl') for d in (straight, stopped))
  records, resumed_records = want.count(b'\n'), got.count(b'\n')
  if want == got and records >= 2:
    return Outcome(study.name, True, seconds,
                   f'resumed: {records} records byte-identical to the uninterrupted run')
  return Outcome(study.name, False, seconds,
                 f'resumed run differs ({resumed_records} vs {records} records)')


def _bytes(path: pathlib.Path) -> bytes:
  return path.read_bytes() if path.exists() else b''


def walk(studies: list[Study], jobs: int, timeout: float) -> list[tuple[str, Outcome]]:
  """(check kind, outcome) for every divergence and resume check, in registry order."""
  tasks = [('diverge', check, s) for s in studies if s.diverge]
  tasks += [('resume', check_resume, s) for s in studies if s.resume_check]
  with tempfile.TemporaryDirectory(prefix='guard_walk_') as root, \
      concurrent.futures.ThreadPoolExecutor(jobs) as pool:
    futures = {pool.submit(fn, s, pathlib.Path(root), timeout): (kind, s.name)
               for kind, fn, s in tasks}
    outcomes = {}
    for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
      kind, name = futures[future]
      outcome = outcomes[kind, name] = future.result()
      print(f'[{i}/{len(tasks)}] {kind} {name}: {"ok" if outcome.passed else "FAIL"} '
            f'in {outcome.seconds:.0f} s', flush=True)
  return [(kind, outcomes[kind, s.name]) for kind, _, s in tasks]


def main(argv):
  names = argv[1] if len(argv) > 1 else 'all'
  if len(argv) > 2:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[2:])}')
  studies = registry.select(names.split(","))
  outcomes = walk(studies, _JOBS.value, _TIMEOUT.value)
  rows = [(o.study, kind, ('stops: ' if kind == 'diverge' and o.passed else '') + o.detail,
           'yes' if o.passed else 'NO') for kind, o in outcomes]
  rows += [(s.name, 'diverge', f'not run: trains nothing ({s.trains_nothing})', '-')
           for s in studies if not s.diverge]
  print(format_rows(('study', 'check', 'outcome', 'pass'), rows))
  for kind, what in (('diverge', 'stop on a forced divergence with one line and exit 1'),
                     ('resume', 'resume to byte-identical records')):
    of_kind = [o for k, o in outcomes if k == kind]
    print(f'{sum(o.passed for o in of_kind)} of {len(of_kind)} studies {what}')
  passed = sum(o.passed for _, o in outcomes)
  print(f'{passed} of {len(outcomes)} checks pass')
  if passed < len(outcomes):
    sys.exit(1)


if __name__ == '__main__':
  cli.run(main)
