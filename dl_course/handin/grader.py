"""Grades submissions: every test of every tests file in its own confined
process (runner.py), in a fresh scratch directory that is removed afterwards,
under a wall-time limit, with every process it left behind killed.

A tests file is plain Python that the grader reads but never imports: its
top-level functions `test_*(submission)` in order, and an optional literal
    POINTS = {'test_name': ('exercise label', points), ...}
(a test not in POINTS is worth 1 point under its own name). A test passes when
it returns; an AssertionError fails it; any other outcome is a verdict of its
own (todo: NotImplementedError; error, exit, timeout, memory, output, killed),
each worth 0 points.
"""
from __future__ import annotations

import ast
import csv
import dataclasses
import io
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from dl_course.errors import UserError
from dl_course.handin import markers, sandbox

RUNNER = pathlib.Path(__file__).resolve().parent / 'runner.py'
_OUTPUT_TAIL_CHARS = 1500


@dataclasses.dataclass(frozen=True)
class Limits:
  wall_seconds: float = 60.0
  memory_mb: int = 2048
  output_mb: int = 4


@dataclasses.dataclass(frozen=True)
class Test:
  name: str
  exercise: str
  points: float
  tests_file: pathlib.Path


def read_tests(path: pathlib.Path) -> list[Test]:
  """The tests of one file, by reading its syntax tree (the file is not run here)."""
  try:
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
  except (OSError, UnicodeDecodeError) as e:
    raise UserError(f'tests file {path} cannot be read ({e})') from None
  except SyntaxError as e:
    raise UserError(f'tests file {path}, line {e.lineno}: {e.msg}') from None
  points = {}
  for node in tree.body:
    if (isinstance(node, ast.Assign) and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name) and node.targets[0].id == 'POINTS'):
      try:
        points = ast.literal_eval(node.value)
      except ValueError:
        raise UserError(f'tests file {path}, line {node.lineno}: POINTS must be a literal dict '
                        "{'test_name': ('exercise', points)}") from None
  names = [node.name for node in tree.body
           if isinstance(node, ast.FunctionDef) and node.name.startswith('test_')]
  if not names:
    raise UserError(f'tests file {path} has no top-level test_* function')
  unknown = sorted(set(points) - set(names))
  if unknown:
    raise UserError(f'tests file {path}: POINTS names tests that do not exist: '
                    + ', '.join(unknown))
  return [Test(name, *points.get(name, (name, 1)), tests_file=path.resolve()) for name in names]


def _signal_verdict(returncode: int, limits: Limits) -> tuple[str, str]:
  number = -returncode
  name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else number
  if number == signal.SIGXCPU:
    return 'timeout', 'over the CPU-time limit'
  if number == signal.SIGXFSZ:
    return 'output', f'wrote more than {limits.output_mb} MB to its output or a file'
  if number == signal.SIGKILL:
    return 'killed', ('killed (SIGKILL) before finishing the test: by the system\'s '
                      'out-of-memory killer or by the submission itself')
  return 'killed', f'the test process died of signal {name}'


def _tail(path: pathlib.Path) -> str:
  try:
    with open(path, 'rb') as f:
      f.seek(max(0, os.path.getsize(path) - _OUTPUT_TAIL_CHARS))
      return f.read().decode('utf-8', 'replace')
  except OSError:
    return ''


def run_test(code: str, test: Test, limits: Limits, private: pathlib.Path) -> dict:
  """One test in its own confined process; the verdict as a dict."""
  scratch = pathlib.Path(tempfile.mkdtemp(prefix='handin_scratch_'))
  result_file, output_file = private / 'result.json', private / 'output.txt'
  result_file.unlink(missing_ok=True)
  (scratch / 'submission.py').write_text(code, encoding='utf-8')
  env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(scratch),
         'TMPDIR': str(scratch), 'MPLBACKEND': 'Agg', 'DL_COURSE_COMPILATION_CACHE': 'off',
         'JAX_PLATFORMS': 'cpu', 'PYTHONDONTWRITEBYTECODE': '1', 'LANG': 'C.UTF-8'}
  command = [sys.executable, '-I', str(RUNNER), str(scratch), str(test.tests_file), test.name,
             str(result_file), str(limits.memory_mb * 2**20),
             str(int(limits.wall_seconds) + 1), str(limits.output_mb * 2**20)]
  start = time.perf_counter()
  timed_out = False
  with open(output_file, 'wb') as output:
    process = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                               stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
      process.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
      timed_out = True
    try:
      os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
      pass
    process.wait()
    leftovers = sandbox.reap_descendants(process.pid)
  seconds = time.perf_counter() - start
  shutil.rmtree(scratch, ignore_errors=True)
  try:
    reported = json.loads(result_file.read_text(encoding='utf-8'))
    verdict, message = reported['verdict'], reported['message']
  except (OSError, ValueError, KeyError, TypeError):
    reported = {}
    if timed_out:
      verdict, message = 'timeout', f'still running after the {limits.wall_seconds:g} s limit'
    elif process.returncode < 0:
      verdict, message = _signal_verdict(process.returncode, limits)
    else:
      verdict, message = 'exit', (f'the test process exited with status {process.returncode} '
                                  'before the test finished (os._exit, or a crash)')
  if leftovers:
    message += ('; ' if message else '') + (f'it left {leftovers} process'
                                             f'{"es" if leftovers > 1 else ""} running, killed')
  return {'test': test.name, 'exercise': test.exercise, 'verdict': verdict,
          'points': test.points if verdict == 'pass' else 0, 'max_points': test.points,
          'message': message, 'seconds': round(seconds, 2),
          'sandbox': reported.get('sandbox', ''), 'output_tail': _tail(output_file)}


def grade(submission: pathlib.Path, tests: list[Test], limits: Limits) -> dict:
  """Every test of one submission; the report (points per exercise and per test)."""
  try:
    code, problem = markers.submission_module(submission), ''
  except UserError as e:
    code, problem = '', str(e)
  results = []
  sandbox.become_subreaper()
  with tempfile.TemporaryDirectory(prefix='handin_grader_') as private:
    for test in tests:
      if problem:
        results.append({'test': test.name, 'exercise': test.exercise, 'verdict': 'error',
                        'points': 0, 'max_points': test.points, 'message': problem,
                        'seconds': 0.0, 'sandbox': '', 'output_tail': ''})
      else:
        results.append(run_test(code, test, limits, pathlib.Path(private)))
  exercises = {}
  for result in results:
    entry = exercises.setdefault(result['exercise'], {'points': 0, 'max_points': 0, 'tests': []})
    entry['points'] += result['points']
    entry['max_points'] += result['max_points']
    entry['tests'].append(result)
  return {'submission': submission.name, 'points': sum(r['points'] for r in results),
          'max_points': sum(r['max_points'] for r in results), 'exercises': exercises,
          'limits': dataclasses.asdict(limits),
          'sandbox': next((r['sandbox'] for r in results if r['sandbox']), '')}


def feedback_markdown(report: dict) -> str:
  lines = [f'# {report["submission"]}: {report["points"]:g} of {report["max_points"]:g} points',
           '']
  for label, entry in report['exercises'].items():
    lines.append(f'## {label}: {entry["points"]:g} of {entry["max_points"]:g}')
    for test in entry['tests']:
      detail = f': {test["message"]}' if test['message'] else ''
      lines.append(f'- `{test["test"]}` **{test["verdict"]}**{detail}')
    lines.append('')
  limits = report['limits']
  lines.append(f'Each test ran alone in a fresh process: {limits["wall_seconds"]:g} s, '
               f'{limits["memory_mb"]} MB of memory, {limits["output_mb"]} MB of output. '
               + (f'Sandbox: {report["sandbox"]}.' if report['sandbox'] else ''))
  return '\n'.join(lines) + '\n'


def grades_table(reports: list[dict]) -> tuple[str, str]:
  """(Markdown, CSV): one row per submission, one column per exercise, and the total."""
  labels = list(dict.fromkeys(label for r in reports for label in r['exercises']))
  header = ['submission', *labels, 'total']
  rows = [[r['submission'], *(f'{r["exercises"][label]["points"]:g}' if label in r['exercises']
                              else '-' for label in labels), f'{r["points"]:g}']
          for r in reports]
  most = {label: next(r['exercises'][label]['max_points'] for r in reports
                      if label in r['exercises']) for label in labels}
  maxima = ['(of)', *(f'{most[label]:g}' for label in labels),
            f'{max((r["max_points"] for r in reports), default=0):g}']
  markdown = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  markdown += ['| ' + ' | '.join(row) + ' |' for row in [maxima, *rows]]
  buffer = io.StringIO()
  csv.writer(buffer, lineterminator='\n').writerows([header, maxima, *rows])
  return '\n'.join(markdown) + '\n', buffer.getvalue()
