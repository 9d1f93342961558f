"""Every config's docstring holds its command and expected result; the quick
commands are run here and must reach what they promise.

Two kinds of promise: `Expected: test accuracy >= N %` (classifiers) and
`Expected: reproduced K of K claims` (studies that check their own claims).
"""
import importlib
import pathlib
import re
import shlex
import sys

import pytest

from tests.helpers import REPO, run

CONFIGS = sorted(p for p in (REPO / 'experiments' / 'configs').glob('*.py')
                 if 'def get_config' in p.read_text())
COMMAND = re.compile(r'^\s*(python -m experiments\.\S+ .*)$', re.M)
ACCURACY = re.compile(r'Expected: test accuracy >= ([\d.]+) %')
CLAIMS = re.compile(r'Expected: reproduced (\d+) of (\d+) claims')


def docstring(path: pathlib.Path) -> str:
  module = importlib.import_module(f'experiments.configs.{path.stem}')
  return module.__doc__ or ''


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_docstring_states_commands_and_expected_results(path):
  doc = docstring(path)
  commands = COMMAND.findall(doc)
  assert len(commands) == 2, f'{path.name}: want the full and the quick command'
  assert f'--config=experiments/configs/{path.name}' in commands[0]
  assert f'--config=experiments/configs/{path.name}:quick' in commands[1]
  for part in doc.split('Quick variant'):
    assert len(ACCURACY.findall(part)) + len(CLAIMS.findall(part)) == 1, path.name
  assert all(k == n for k, n in CLAIMS.findall(doc)), 'a config promises all of its claims'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_quick_command_runs_and_reaches_its_expected_result(path, tmp_path):
  doc = docstring(path)
  quick_command = COMMAND.findall(doc)[1]
  quick_doc = doc.split('Quick variant')[1]
  args = [a for a in shlex.split(quick_command)[1:] if not a.startswith('--workdir=')]
  if 'experiments.classify' in quick_command:
    args.append('--config.progress=False')
  done = run([sys.executable, *args, f'--workdir={tmp_path}'], timeout=600)
  assert done.returncode == 0, done.stderr
  if ACCURACY.search(quick_doc):
    expected = float(ACCURACY.search(quick_doc).group(1)) / 100
    accuracy = float(re.search(r'test/accuracy=([\d.]+)', done.stdout).group(1))
    assert accuracy >= expected, f'{path.stem}: {accuracy:.3f} < {expected:.3f}'
  else:
    count = CLAIMS.search(quick_doc).group(1)
    assert f'reproduced {count} of {count} claims' in done.stdout, done.stdout
