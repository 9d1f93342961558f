"""Weekly hand-ins: student versions, sandboxed grading, peer-grading bundles.

  python -m launch.handin build --out=DIR
      Student notebooks (solutions replaced by stubs that raise
      NotImplementedError, questions kept, outputs cleared) and their public
      tests, from every notebook in --notebooks that has a tests file in
      --notebooks/public_tests/.
  python -m launch.handin grade SUBMISSION [--exercise=NAME] [--hidden_tests=DIR] --out=DIR
      Grades a submitted .ipynb or .py, or every one in a folder. Each test
      runs in its own confined process (dl_course/handin/grader.py). Writes
      <submission>.json (points per exercise and test) and <submission>.md
      (feedback) into --out, and for a folder grades.md and grades.csv.
      The exercise set is --exercise, else the submission's file name.
  python -m launch.handin bundle FOLDER --out=DIR --key=FILE.csv [--seed=0]
      Anonymised copies for peer grading, and the key back to the files.
"""
from __future__ import annotations

import json
import pathlib
import sys

from absl import flags

from dl_course.errors import UserError
from dl_course.handin import grader, markers, peer
from experiments import cli

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / 'notebooks'
PUBLIC_TESTS = 'public_tests'

_OUT = flags.DEFINE_string('out', None, 'Where to write (a folder).')
_NOTEBOOKS = flags.DEFINE_string('notebooks', str(NOTEBOOKS), 'build: the solution notebooks.')
_EXERCISE = flags.DEFINE_string('exercise', None, 'grade: the exercise set (a notebook name '
                                'without .ipynb); default: the submission\'s file name.')
_HIDDEN = flags.DEFINE_string('hidden_tests', None, 'grade: a folder of teacher-only tests '
                              'files, <exercise>.py, run after the public ones.')
_WALL = flags.DEFINE_float('wall_seconds', grader.Limits.wall_seconds, 'grade: per test.')
_MEMORY = flags.DEFINE_integer('memory_mb', grader.Limits.memory_mb, 'grade: per test.')
_OUTPUT = flags.DEFINE_integer('output_mb', grader.Limits.output_mb,
                               'grade: per test, output and each written file.')
_KEY = flags.DEFINE_string('key', None, 'bundle: where the key CSV goes (not inside --out).')
_SEED = flags.DEFINE_integer('seed', 0, 'bundle: the seed of the anonymous order.')

COMMANDS = ('build', 'grade', 'bundle')


def _required(flag) -> str:
  if not flag.value:
    raise UserError(f'--{flag.name} is required here')
  return flag.value


def build(out: pathlib.Path, notebooks: pathlib.Path) -> list[str]:
  sources = sorted(p for p in notebooks.glob('*.ipynb')
                   if (notebooks / PUBLIC_TESTS / f'{p.stem}.py').exists())
  if not sources:
    raise UserError(f'--notebooks={notebooks} holds no notebook with a tests file in '
                    f'{notebooks / PUBLIC_TESTS}/<name>.py')
  (out / PUBLIC_TESTS).mkdir(parents=True, exist_ok=True)
  lines = []
  for source in sources:
    student, regions = markers.student_notebook(markers.read_notebook(source), str(source))
    if not regions:
      raise UserError(f'{source} has tests but no # BEGIN SOLUTION region to stub')
    (out / source.name).write_text(json.dumps(student, indent=1, ensure_ascii=False) + '\n',
                                   encoding='utf-8')
    tests = notebooks / PUBLIC_TESTS / f'{source.stem}.py'
    grader.read_tests(tests)  # a broken tests file fails here, not in every student's grade
    (out / PUBLIC_TESTS / tests.name).write_bytes(tests.read_bytes())
    lines.append(f'{source.name}: {regions} solution regions stubbed; public tests '
                 f'{PUBLIC_TESTS}/{tests.name}')
  return lines


def tests_for(exercise: str, notebooks: pathlib.Path, hidden: str | None) -> list[grader.Test]:
  public = notebooks / PUBLIC_TESTS / f'{exercise}.py'
  if not public.exists():
    known = sorted(p.stem for p in (notebooks / PUBLIC_TESTS).glob('*.py'))
    raise UserError(f'no public tests for exercise {exercise!r} ({public}); pass '
                    f'--exercise=one of: {", ".join(known) or "(none)"}')
  tests = grader.read_tests(public)
  if hidden:
    hidden_file = pathlib.Path(hidden) / f'{exercise}.py'
    if not hidden_file.exists():
      raise UserError(f'--hidden_tests={hidden} has no {exercise}.py')
    tests += grader.read_tests(hidden_file)
  return tests


def grade(target: pathlib.Path, out: pathlib.Path) -> list[str]:
  if not target.exists():
    raise UserError(f'submission {target} does not exist')
  submissions = peer.submissions_in(target) if target.is_dir() else [target]
  limits = grader.Limits(_WALL.value, _MEMORY.value, _OUTPUT.value)
  out.mkdir(parents=True, exist_ok=True)
  reports, lines = [], []
  tests_by_exercise = {}
  for submission in submissions:
    exercise = _EXERCISE.value or submission.stem
    if exercise not in tests_by_exercise:
      tests_by_exercise[exercise] = tests_for(exercise, pathlib.Path(_NOTEBOOKS.value),
                                              _HIDDEN.value)
    report = grader.grade(submission, tests_by_exercise[exercise], limits)
    (out / f'{submission.stem}.json').write_text(json.dumps(report, indent=1) + '\n')
    (out / f'{submission.stem}.md').write_text(grader.feedback_markdown(report))
    reports.append(report)
    lines.append(f'{submission.name}: {report["points"]:g} of {report["max_points"]:g} points')
  if target.is_dir():
    markdown, table = grader.grades_table(reports)
    (out / 'grades.md').write_text(markdown)
    (out / 'grades.csv').write_text(table)
    lines.append(markdown.rstrip())
  return lines


def main(argv):
  if len(argv) < 2 or argv[1] not in COMMANDS:
    raise UserError(f'give a command: {", ".join(COMMANDS)} (python -m launch.handin --help)')
  command, rest = argv[1], argv[2:]
  if command == 'build':
    if rest:
      raise UserError(f'build takes no arguments, got {" ".join(rest)}')
    lines = build(pathlib.Path(_required(_OUT)), pathlib.Path(_NOTEBOOKS.value))
  else:
    if len(rest) != 1:
      raise UserError(f'{command} takes one SUBMISSION file or folder, got {len(rest)}')
    if command == 'grade':
      lines = grade(pathlib.Path(rest[0]), pathlib.Path(_required(_OUT)))
    else:
      names = peer.bundle(pathlib.Path(rest[0]), pathlib.Path(_required(_OUT)),
                          pathlib.Path(_required(_KEY)), _SEED.value)
      lines = [f'{len(names)} submissions into {_OUT.value}; key in {_KEY.value}']
  print('\n'.join(lines), file=sys.stdout, flush=True)


if __name__ == '__main__':
  cli.run(main)
