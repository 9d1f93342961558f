"""Every registered study's config docstring holds its two commands (full, then
quick) with their expected results, and the quick command keeps its promise.

CI's `launch.reproduce` runs the quick variant of every study that reproduces
with `:quick`, failing on any failing claim; this module runs the quick commands
that reproduce does not (MNIST-1D reproduces the full recipe at seed 0), or
every one of them with `--all-quick-commands`.
"""
import ast
import importlib
import re
import shlex
import sys

import pytest

from experiments import registry
from tests.helpers import REPO, run

COMMAND = re.compile(r'^\s*(python -m experiments\.main .*)$', re.M)
QUICK_MARKER = 'Quick variant'
STUDIES = sorted(registry.STUDIES)


def pytest_generate_tests(metafunc):
  if 'quick_study' in metafunc.fixturenames:
    everything = metafunc.config.getoption('--all-quick-commands')
    chosen = [name for name in STUDIES
              if everything or tuple(registry.STUDIES[name].reproduce_args[0]) != ('quick',)]
    metafunc.parametrize('quick_study', chosen)


@pytest.mark.parametrize('name', STUDIES)
def test_docstring_states_commands_and_expected_results(name):
  study = registry.STUDIES[name]
  doc = study.config.__doc__ or ''
  commands = COMMAND.findall(doc)
  assert len(commands) == 2, f'{name}: want the full and the quick command'
  assert f'--config={study.config_path} ' in commands[0] + ' '
  assert f'--config={study.config_path}:quick ' in commands[1] + ' '
  for part in doc.split(QUICK_MARKER):
    assert 'Expected:' in part, f'{name}: each variant states its expected result'


def test_every_config_names_its_study():
  for name, study in registry.STUDIES.items():
    assert study.get_config('quick').study == name
    assert study.get_config().study == name


def test_config_files_are_all_registered():
  """Every config file is a registered study's, or runs the one classification
  trainer on any dataset (experiments/configs/classify/), and then states its
  commands and expected results too."""
  paths = {s.config_path for s in registry.STUDIES.values()}
  on_disk = {str(p.relative_to(REPO)) for p in (REPO / 'experiments' / 'configs').glob('*/*.py')
             if 'def get_config' in p.read_text()}
  assert paths <= on_disk
  for path in sorted(on_disk - paths):
    module = importlib.import_module(path.removesuffix('.py').replace('/', '.'))
    assert module.get_config().study == registry.CLASSIFICATION.name, path
    assert module.get_config('quick').study == registry.CLASSIFICATION.name, path
    commands = COMMAND.findall(module.__doc__ or '')
    assert [c.split()[3] for c in commands[:2]] == [f'--config={path}', f'--config={path}:quick']
    for part in module.__doc__.split(QUICK_MARKER):
      assert 'Expected:' in part, f'{path}: each variant states its expected result'


def test_ci_reproduces_every_family_from_the_registry_and_walks_the_guard():
  ci = (REPO / '.ci' / 'run').read_text()
  assert 'experiments.registry import FAMILIES' in ci and '-m launch.reproduce' in ci
  assert '-m launch.guard_walk all' in ci


def test_every_study_has_guard_walk_overrides_that_name_real_keys():
  """launch.guard_walk's input (divergence, and short chunks for resumable
  studies): each override must set an existing key of the quick config to a value
  of that key's type (else the walk would fail on a typo)."""
  for name, study in registry.STUDIES.items():
    assert bool(study.diverge) != bool(study.trains_nothing), name
    assert study.resumes == bool(study.resume_check), name
    config = study.get_config('quick')
    for override in (*study.diverge, *study.resume_check):
      key, value = override.split('=', 1)
      node = config
      *parents, leaf = key.split('.')
      for parent in parents:
        node = node[parent]
      assert leaf in node, f'{name}: {key} is not a config key'
      try:
        parsed = ast.literal_eval(value)
      except (ValueError, SyntaxError):
        parsed = value  # a string, given unquoted as on the command line
      assert isinstance(parsed, type(node[leaf])) or (
          isinstance(node[leaf], float) and isinstance(parsed, int)), (name, key)


def test_quick_command_runs_and_keeps_its_promise(quick_study, tmp_path):
  study = registry.STUDIES[quick_study]
  quick_command = COMMAND.findall(study.config.__doc__)[1]
  args = [a for a in shlex.split(quick_command)[1:] if not a.startswith('--workdir=')]
  if 'progress' in study.get_config('quick'):
    args.append('--config.progress=False')
  done = run([sys.executable, *args, f'--workdir={tmp_path}'], timeout=600)
  assert done.returncode == 0, done.stderr
  counts = re.search(r'reproduced (\d+) of (\d+) claims', done.stdout)
  assert counts and counts.group(1) == counts.group(2) != '0', done.stdout
