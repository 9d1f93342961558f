"""Solutions written once: marked regions become stubs in the student version.

In a code cell (or a .py file):
    # BEGIN SOLUTION
    ...the solution...
    # END SOLUTION
becomes, at the marker's indentation,
    # Your code here.
    raise NotImplementedError('exercise: ...')
In a Markdown cell, `<!-- BEGIN SOLUTION -->` ... `<!-- END SOLUTION -->`
becomes "*Your answer here.*". Questions and everything outside markers stay.

For grading, a notebook's code is one module: its code cells in order, less
cells tagged `demo` (long training and plots the tests do not need), with
IPython magics and shell lines (`%...`, `!...`) commented out.
"""
from __future__ import annotations

import copy
import json
import pathlib
import re

from dl_course.errors import UserError

_CODE_BEGIN = re.compile(r'^(\s*)# BEGIN SOLUTION\s*$')
_CODE_END = re.compile(r'^\s*# END SOLUTION\s*$')
_TEXT_BEGIN = re.compile(r'^\s*<!-- BEGIN SOLUTION -->\s*$')
_TEXT_END = re.compile(r'^\s*<!-- END SOLUTION -->\s*$')
DEMO_TAG = 'demo'


def _stub_lines(lines: list[str], where: str, *, markdown: bool) -> tuple[list[str], int]:
  """The lines with every marked region replaced; also how many regions there were."""
  begin, end = (_TEXT_BEGIN, _TEXT_END) if markdown else (_CODE_BEGIN, _CODE_END)
  out, inside, regions = [], None, 0
  for number, line in enumerate(lines, 1):
    if begin.match(line):
      if inside is not None:
        raise UserError(f'{where}, line {number}: BEGIN SOLUTION inside another solution')
      inside = line
      regions += 1
      indent = begin.match(line).group(1) if not markdown else ''
      out += (['*Your answer here.*\n'] if markdown else
              [f'{indent}# Your code here.\n',
               f"{indent}raise NotImplementedError('exercise: write this part')\n"])
    elif end.match(line):
      if inside is None:
        raise UserError(f'{where}, line {number}: END SOLUTION without a BEGIN SOLUTION')
      inside = None
    elif inside is None:
      out.append(line)
  if inside is not None:
    raise UserError(f'{where}: BEGIN SOLUTION without an END SOLUTION')
  return out, regions


def student_python(source: str, where: str) -> tuple[str, int]:
  lines, regions = _stub_lines(source.splitlines(keepends=True), where, markdown=False)
  return ''.join(lines), regions


def read_notebook(path: pathlib.Path) -> dict:
  try:
    notebook = json.loads(path.read_text(encoding='utf-8'))
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise UserError(f'{path} is not a readable notebook ({e})') from None
  if not isinstance(notebook, dict) or not isinstance(notebook.get('cells'), list):
    raise UserError(f'{path} is not a notebook: no list of cells')
  return notebook


def _source(cell: dict) -> list[str]:
  source = cell.get('source', [])
  return source.splitlines(keepends=True) if isinstance(source, str) else list(source)


def student_notebook(notebook: dict, where: str) -> tuple[dict, int]:
  """The student version: marked regions stubbed, outputs and counts cleared."""
  student, regions = copy.deepcopy(notebook), 0
  for index, cell in enumerate(student['cells']):
    markdown = cell.get('cell_type') == 'markdown'
    if cell.get('cell_type') not in ('code', 'markdown'):
      continue
    lines, found = _stub_lines(_source(cell), f'{where}, cell {index}', markdown=markdown)
    cell['source'], regions = lines, regions + found
    if cell.get('cell_type') == 'code':
      cell['outputs'], cell['execution_count'] = [], None
  return student, regions


def _commented_magic(line: str) -> str:
  stripped = line.lstrip()
  return line.replace(stripped, '# (IPython) ' + stripped, 1) if stripped[:1] in '%!' else line


def notebook_module(notebook: dict) -> str:
  """A notebook's code as one Python module (see the module docstring)."""
  parts = []
  for index, cell in enumerate(notebook['cells']):
    if cell.get('cell_type') != 'code' or DEMO_TAG in cell.get('metadata', {}).get('tags', []):
      continue
    lines = [_commented_magic(line) for line in _source(cell)]
    parts.append(f'# cell {index}\n' + ''.join(lines).rstrip('\n') + '\n')
  return '\n'.join(parts)


def submission_module(path: pathlib.Path) -> str:
  """The code of a submitted .ipynb or .py, as text (never executed here)."""
  if path.suffix == '.ipynb':
    return notebook_module(read_notebook(path))
  if path.suffix == '.py':
    try:
      return path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as e:
      raise UserError(f'{path} cannot be read as UTF-8 Python ({e})') from None
  raise UserError(f'{path}: a submission is a .ipynb or a .py file')
