"""Every config's docstring holds its command and expected result, and every
quick command reaches what it promises.

Quick commands of configs that a study in `.ci/run` reruns through
`launch.reproduce` are held to their promise there (the launchers check each
run's claim count against the docstring and reproduce fails on any failing
claim), so this module runs them only with `--all-quick-commands`; the rest it
runs itself. That keeps one CI from training the same quick variant twice.
"""
import importlib
import re
import shlex
import sys

import pytest

from experiments.config_docs import ACCURACY, CLAIMS, COMMAND, QUICK_MARKER, docstring, \
    promised_claims, variant_text
from launch.study_registry import STUDIES
from tests.helpers import REPO, run

CONFIGS = sorted(p.stem for p in (REPO / 'experiments' / 'configs').glob('*.py')
                 if 'def get_config' in p.read_text())


def reproduced_in_ci() -> dict[str, str]:
  """config module -> the study whose `launch.reproduce` run in .ci/run covers it."""
  ci_studies = re.findall(r'-m launch\.reproduce (\w+)', (REPO / '.ci' / 'run').read_text())
  covered = {}
  for study in ci_studies:
    for config_module in getattr(importlib.import_module(STUDIES[study]), 'CONFIGS', {}).values():
      covered[config_module] = study
  return covered


COVERED = reproduced_in_ci()


def pytest_generate_tests(metafunc):
  if 'quick_config' in metafunc.fixturenames:
    everything = metafunc.config.getoption('--all-quick-commands')
    chosen = [c for c in CONFIGS if everything or c not in COVERED]
    metafunc.parametrize('quick_config', chosen)


@pytest.mark.parametrize('config_module', CONFIGS)
def test_docstring_states_commands_and_expected_results(config_module):
  doc = docstring(config_module)
  commands = COMMAND.findall(doc)
  assert len(commands) == 2, f'{config_module}: want the full and the quick command'
  assert f'--config=experiments/configs/{config_module}.py' in commands[0]
  assert f'--config=experiments/configs/{config_module}.py:quick' in commands[1]
  for part in doc.split(QUICK_MARKER):
    assert len(ACCURACY.findall(part)) + len(CLAIMS.findall(part)) == 1, config_module
  assert all(k == n for k, n in CLAIMS.findall(doc)), 'a config promises all of its claims'


def test_ci_reproduces_every_registered_study():
  ci = (REPO / '.ci' / 'run').read_text()
  for study in STUDIES:
    assert f'-m launch.reproduce {study}\n' in ci, f'.ci/run does not reproduce {study}'


@pytest.mark.parametrize('config_module', sorted(COVERED))
def test_configs_left_to_ci_promise_a_claim_count(config_module):
  """What the launcher checks must exist: a claim count for both variants."""
  assert promised_claims(config_module, full=False), config_module
  assert promised_claims(config_module, full=True), config_module


def test_claim_count_check_fails_on_a_broken_promise():
  from experiments.config_docs import check_claim_count
  config_module = sorted(COVERED)[0]
  promised = promised_claims(config_module, full=False)
  check_claim_count(config_module, False, [None] * promised)
  with pytest.raises(RuntimeError, match='promises'):
    check_claim_count(config_module, False, [None] * (promised + 1))


def test_quick_command_runs_and_reaches_its_expected_result(quick_config, tmp_path):
  doc = docstring(quick_config)
  quick_command = COMMAND.findall(doc)[1]
  quick_doc = variant_text(doc, full=False)
  args = [a for a in shlex.split(quick_command)[1:] if not a.startswith('--workdir=')]
  if 'experiments.classify' in quick_command:
    args.append('--config.progress=False')
  done = run([sys.executable, *args, f'--workdir={tmp_path}'], timeout=600)
  assert done.returncode == 0, done.stderr
  if ACCURACY.search(quick_doc):
    expected = float(ACCURACY.search(quick_doc).group(1)) / 100
    accuracy = float(re.search(r'test/accuracy=([\d.]+)', done.stdout).group(1))
    assert accuracy >= expected, f'{quick_config}: {accuracy:.3f} < {expected:.3f}'
  else:
    count = CLAIMS.search(quick_doc).group(1)
    assert f'reproduced {count} of {count} claims' in done.stdout, done.stdout
