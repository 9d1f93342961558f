"""The hand-in kit: build, grade (solutions full marks, stubs zero, hostile
submissions each a verdict with the grader alive, nothing outside scratch
touched, no process left behind) and peer-grading bundles."""
from __future__ import annotations

import json
import os
import pathlib
import sys
import time

import pytest

from dl_course.errors import UserError
from dl_course.handin import grader, markers, sandbox
from tests.helpers import REPO, run
from tests.test_cli import assert_one_line_error

HANDIN = [sys.executable, '-m', 'launch.handin']
NOTEBOOK = REPO / 'notebooks' / '01_backprop.ipynb'


def _grade(target, out, *flags) -> dict:
  done = run([*HANDIN, 'grade', str(target), f'--out={out}', *flags], timeout=600)
  assert done.returncode == 0, done.stderr
  assert 'Traceback' not in done.stderr, done.stderr
  return json.loads((out / f'{pathlib.Path(target).stem}.json').read_text())


def _verdicts(report: dict) -> list[str]:
  return [t['verdict'] for entry in report['exercises'].values() for t in entry['tests']]


def _build(out):
  done = run([*HANDIN, 'build', f'--out={out}'])
  assert done.returncode == 0, done.stderr


def test_build_stubs_the_solutions_and_keeps_the_questions(tmp_path):
  _build(tmp_path / 'kit')
  student = json.loads((tmp_path / 'kit' / '01_backprop.ipynb').read_text())
  text = json.dumps(student)
  assert 'grad[np.arange(n), labels] -= 1.0' not in text  # the solution is gone
  assert text.count("raise NotImplementedError('exercise: write this part')") == 4
  assert 'Question 1.' in text and '*Your answer here.*' in text  # question kept, answer not
  assert 'overflows to inf' not in text
  assert all(c.get('outputs', []) == [] for c in student['cells'])
  assert (tmp_path / 'kit' / 'public_tests' / '01_backprop.py').read_bytes() == (
      REPO / 'notebooks' / 'public_tests' / '01_backprop.py').read_bytes()
  built = sorted(p.name for p in (tmp_path / 'kit').glob('*.ipynb'))
  assert built == sorted(p.name for p in (REPO / 'notebooks').glob('*.ipynb'))


@pytest.mark.slow
def test_solutions_score_full_marks_and_the_built_stubs_zero(tmp_path):
  _build(tmp_path / 'kit')
  solution = _grade(NOTEBOOK, tmp_path / 'solution')
  assert (solution['points'], solution['max_points']) == (9, 9), _verdicts(solution)
  stub = _grade(tmp_path / 'kit' / '01_backprop.ipynb', tmp_path / 'stub')
  assert (stub['points'], stub['max_points']) == (0, 9)
  assert set(_verdicts(stub)) == {'todo'}
  feedback = (tmp_path / 'stub' / '01_backprop.md').read_text()
  assert feedback.startswith('# 01_backprop.ipynb: 0 of 9 points')


TESTS_FILE = '''
POINTS = {'test_add': ('exercise 1: add', 2)}

def test_add(submission):
  assert submission.add(2, 3) == 5
'''

MARKER = f'1000.{os.getpid()}'

HOSTILE = {
    'good': ('def add(a, b):\n  return a + b\n', 'pass'),
    'wrong': ('def add(a, b):\n  return a - b\n', 'fail'),
    'infinite_loop': ('while True:\n  pass\n', 'timeout'),
    'allocates_50_gb': ('import numpy\nx = numpy.ones(50 * 2**30 // 8)\n', 'memory'),
    'sys_exit': ('import sys\nsys.exit(0)\n', 'exit'),
    'os_exit': ('import os\nos._exit(0)\n', 'exit'),
    'syntax_error': ('def add(a, b)\n  return a + b\n', 'error'),
    'floods_output': ('import sys\nfor _ in range(64):\n  sys.stdout.write("x" * 2**20)\n',
                      'output'),
    'forks_a_daemon': ('import os\nif os.fork() == 0:\n  os.setsid()\n  if os.fork() == 0:\n'
                       f"    os.execv('/bin/sleep', ['sleep', '{MARKER}'])\n  os._exit(0)\n"
                       'def add(a, b):\n  return a + b\n', 'pass'),
}


def _escape_code(victim: pathlib.Path) -> str:
  return (f'import os, pathlib, shutil\n'
          f'for act in (lambda: pathlib.Path({str(victim / "new.txt")!r}).write_text("x"),\n'
          f'            lambda: os.remove({str(victim / "keep.txt")!r}),\n'
          f'            lambda: shutil.rmtree({str(victim)!r}),\n'
          f'            lambda: os.rename({str(victim / "keep.txt")!r}, "stolen.txt")):\n'
          f'  try:\n    act()\n  except OSError:\n    pass\n'
          f'def add(a, b):\n  return a + b\n')


def _leftover_processes() -> list[int]:
  found = []
  for name in os.listdir('/proc'):
    if name.isdigit():
      try:
        if MARKER.encode() in pathlib.Path(f'/proc/{name}/cmdline').read_bytes():
          found.append(int(name))
      except OSError:
        pass
  return found


def test_hostile_submissions_each_get_a_verdict_and_leave_nothing_behind(tmp_path):
  notebooks = tmp_path / 'notebooks'
  (notebooks / 'public_tests').mkdir(parents=True)
  (notebooks / 'public_tests' / 'add.py').write_text(TESTS_FILE)
  submissions, victim = tmp_path / 'submissions', tmp_path / 'victim'
  submissions.mkdir()
  victim.mkdir()
  (victim / 'keep.txt').write_text('keep')
  for name, (code, _) in HOSTILE.items():
    (submissions / f'{name}.py').write_text(code)
  (submissions / 'writes_outside_scratch.py').write_text(_escape_code(victim))
  out = tmp_path / 'reports'
  start = time.perf_counter()
  done = run([*HANDIN, 'grade', str(submissions), '--exercise=add', f'--notebooks={notebooks}',
              f'--out={out}', '--wall_seconds=4', '--memory_mb=1024', '--output_mb=2'],
             timeout=300)
  assert done.returncode == 0 and 'Traceback' not in done.stderr, done.stderr
  assert time.perf_counter() - start < 120
  for name, (_, verdict) in HOSTILE.items():
    report = json.loads((out / f'{name}.json').read_text())
    assert _verdicts(report) == [verdict], (name, report['exercises'])
    assert report['points'] == (2 if verdict == 'pass' else 0)
  syntax = json.loads((out / 'syntax_error.json').read_text())
  assert 'does not compile: line 1' in syntax['exercises']['exercise 1: add']['tests'][0]['message']
  forked = json.loads((out / 'forks_a_daemon.json').read_text())
  message = forked['exercises']['exercise 1: add']['tests'][0]['message']
  assert 'processes running, killed' in message
  assert _leftover_processes() == []
  grades = (out / 'grades.csv').read_text().splitlines()
  assert grades[0] == 'submission,exercise 1: add,total' and len(grades) == 2 + len(HOSTILE) + 1
  if not sandbox.landlock_abi():
    pytest.skip('this kernel has no Landlock: writes outside the scratch directory are not '
                'blocked here (the rest of the test passed)')
  assert sorted(p.name for p in victim.iterdir()) == ['keep.txt']
  assert (victim / 'keep.txt').read_text() == 'keep'


@pytest.mark.skipif(sandbox.landlock_abi() < 6, reason='Landlock ABI < 6: signals out of the '
                    'sandbox are not blocked on this kernel')
def test_a_submission_cannot_kill_the_grader(tmp_path):
  notebooks = tmp_path / 'notebooks'
  (notebooks / 'public_tests').mkdir(parents=True)
  (notebooks / 'public_tests' / 'add.py').write_text(TESTS_FILE)
  submission = tmp_path / 'add.py'
  submission.write_text('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n'
                        'def add(a, b):\n  return a + b\n')
  report = _grade(submission, tmp_path / 'out', f'--notebooks={notebooks}')
  assert _verdicts(report) == ['error']
  assert 'PermissionError' in report['exercises']['exercise 1: add']['tests'][0]['message']


def test_markers_become_stubs_at_their_indentation():
  source = ('def f(x):\n  """Doc."""\n  # BEGIN SOLUTION\n  return x + 1\n  # END SOLUTION\n'
            '\nkept = 1\n')
  student, regions = markers.student_python(source, 'f.py')
  assert regions == 1
  assert student == ('def f(x):\n  """Doc."""\n  # Your code here.\n'
                     "  raise NotImplementedError('exercise: write this part')\n\nkept = 1\n")
  for broken, problem in (('# BEGIN SOLUTION\nx\n', 'without an END'),
                          ('x\n# END SOLUTION\n', 'without a BEGIN'),
                          ('# BEGIN SOLUTION\n# BEGIN SOLUTION\n', 'inside another')):
    with pytest.raises(UserError, match=problem):
      markers.student_python(broken, 'f.py')


def test_a_notebook_module_skips_demo_cells_and_comments_out_magics():
  notebook = {'cells': [
      {'cell_type': 'code', 'metadata': {}, 'source': ['%pip install x\n', 'a = 1\n']},
      {'cell_type': 'markdown', 'metadata': {}, 'source': 'text'},
      {'cell_type': 'code', 'metadata': {'tags': ['demo']}, 'source': 'train_for_an_hour()'},
      {'cell_type': 'code', 'metadata': {}, 'source': '  !ls\nb = a + 1'}]}
  module = markers.notebook_module(notebook)
  assert 'train_for_an_hour' not in module
  namespace = {}
  exec(compile(module, 'module', 'exec'), namespace)  # pylint: disable=exec-used
  assert namespace['b'] == 2


def test_tests_files_are_read_without_running_them(tmp_path):
  path = tmp_path / 't.py'
  path.write_text("raise SystemExit('never run')\nPOINTS = {'test_b': ('ex', 3)}\n"
                  'def test_a(s):\n  pass\ndef test_b(s):\n  pass\ndef helper():\n  pass\n')
  assert [(t.name, t.exercise, t.points) for t in grader.read_tests(path)] == [
      ('test_a', 'test_a', 1), ('test_b', 'ex', 3)]
  path.write_text("POINTS = {'test_gone': ('ex', 1)}\ndef test_a(s):\n  pass\n")
  with pytest.raises(UserError, match='test_gone'):
    grader.read_tests(path)


def test_the_grades_table_has_a_row_per_submission_and_the_maxima():
  def report(name, points):
    return {'submission': name, 'points': sum(points), 'max_points': 5,
            'exercises': {'ex 1': {'points': points[0], 'max_points': 2},
                          'ex 2': {'points': points[1], 'max_points': 3}}}
  markdown, table = grader.grades_table([report('a.ipynb', (2, 3)), report('b.py', (0, 1.5))])
  assert table.splitlines() == ['submission,ex 1,ex 2,total', '(of),2,3,5', 'a.ipynb,2,3,5',
                                'b.py,0,1.5,1.5']
  assert markdown.splitlines()[3] == '| a.ipynb | 2 | 3 | 5 |'


def test_a_peer_bundle_is_anonymous_and_its_key_maps_back(tmp_path):
  folder = tmp_path / 'in'
  folder.mkdir()
  notebook = json.loads(NOTEBOOK.read_text())
  notebook['metadata']['authors'] = [{'name': 'Ada Student'}]
  (folder / 's123456_ada.ipynb').write_text(json.dumps(notebook))
  (folder / 's654321_bob.py').write_text('def add(a, b):\n  return a + b\n')
  done = run([*HANDIN, 'bundle', str(folder), f'--out={tmp_path / "peer"}',
              f'--key={tmp_path / "key.csv"}', '--seed=3'])
  assert done.returncode == 0, done.stderr
  names = sorted(p.name for p in (tmp_path / 'peer').iterdir())
  assert names == ['peer_001.ipynb', 'peer_002.py'] or names == ['peer_001.py', 'peer_002.ipynb']
  anonymous = next(n for n in names if n.endswith('.ipynb'))
  assert 'Ada' not in (tmp_path / 'peer' / anonymous).read_text()
  key = dict(line.split(',') for line in (tmp_path / 'key.csv').read_text().splitlines()[1:])
  for name in names:
    original = folder / key[name]
    copied = tmp_path / 'peer' / name
    if name.endswith('.py'):
      assert copied.read_bytes() == original.read_bytes()
    else:
      assert json.loads(copied.read_text())['cells'] == notebook['cells']


@pytest.mark.parametrize('arguments,expected', [
    ([], 'give a command: build, grade, bundle'),
    (['grade', 'notebooks/01_backprop.ipynb'], '--out is required'),
    (['grade', 'no/such.ipynb', '--out=/tmp/x'], 'submission no/such.ipynb does not exist'),
    (['grade', 'notebooks/01_backprop.ipynb', '--out={tmp}', '--exercise=week9'],
     "no public tests for exercise 'week9'"),
    (['grade', 'notebooks/01_backprop.ipynb', '--out={tmp}', '--hidden_tests={tmp}'],
     'has no 01_backprop.py'),
    (['bundle', 'notebooks', '--out={tmp}/peer', '--key={tmp}/peer/key.csv'],
     'is inside the bundle folder'),
    (['build', '--out={tmp}', '--notebooks={tmp}'], 'holds no notebook with a tests file'),
], ids=['no command', 'no out', 'missing submission', 'unknown exercise', 'no hidden file',
        'key inside bundle', 'no notebooks'])
def test_bad_input_is_one_line(tmp_path, arguments, expected):
  arguments = [a.replace('{tmp}', str(tmp_path)) for a in arguments]
  assert_one_line_error(run([*HANDIN, *arguments]), expected)


def test_unbalanced_markers_in_a_solution_notebook_name_the_cell(tmp_path):
  (tmp_path / 'public_tests').mkdir()
  (tmp_path / 'public_tests' / 'w.py').write_text(TESTS_FILE)
  notebook = {'cells': [{'cell_type': 'markdown', 'metadata': {}, 'source': 'intro'},
                        {'cell_type': 'code', 'metadata': {}, 'outputs': [],
                         'execution_count': None, 'source': '# BEGIN SOLUTION\nx = 1\n'}],
              'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
  (tmp_path / 'w.ipynb').write_text(json.dumps(notebook))
  assert_one_line_error(run([*HANDIN, 'build', f'--out={tmp_path / "kit"}',
                             f'--notebooks={tmp_path}']),
                        'w.ipynb, cell 1: BEGIN SOLUTION without an END SOLUTION')
