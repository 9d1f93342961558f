"""User mistakes: one line `error: ...` naming the bad thing, non-zero exit, no traceback."""
import dataclasses
import pathlib
import re
import subprocess
import sys

import pytest

from tests.helpers import MLP_QUICK, assert_finished, classify_command, run

CASES = {
    'unknown config key': (['--config.bogus=1'], "unknown config key 'bogus'"),
    'unknown nested key': (['--config.optimizer.lr=1'], "unknown config key 'lr'"),
    'misspelt key': (['--config.train.num_step=1'],
                     "unknown config key 'num_step' in --config.train.num_step (did you mean "
                     "'num_steps'?)"),
    'flat key of a section': (['--config.num_steps=1'], "unknown config key 'num_steps' in "
                              "--config.num_steps (it lives in a section now: "
                              "--config.train.num_steps)"),
    'wrong type': (['--config.train.batch_size=abc'], 'config.train.batch_size=abc'),
    'float for an int': (['--config.train.num_steps=1.5'], 'config.train.num_steps=1.5'),
    'out of range':
        (['--config.train.batch_size=0'], 'config.train.batch_size=0 is not allowed: >= 1'),
    'negative learning rate': (['--config.optimizer.learning_rate=-1'],
                               'config.optimizer.learning_rate=-1.0 is not allowed: > 0.0'),
    'unknown optimizer': (['--config.optimizer.name=lion'], "config.optimizer.name='lion'"),
    'unknown dispatch': (['--config.dispatch=pmap'], "config.dispatch='pmap'"),
    'unknown dataset': (['--config.data.name=imagenet'], "dataset 'imagenet' is unknown; allowed:"),
    'unknown model': (['--config.model.name=resnet999'], "config.model.name='resnet999'"),
    'image model on signals': (['--config.model.name=lenet'], "'lenet' takes images [H, W, C]"),
    'idx without data_dir': (['--config.data.name=idx'], 'dataset idx needs config.data.dir'),
    'tfds data missing': (['--config.data.name=tfds:mnist',
                           '--config.data.dir=/nonexistent'], 'dataset tfds:mnist not found'),
    'unknown flag': (['--nosuchflag'], "Unknown command line flag 'nosuchflag'"),
}


@pytest.mark.parametrize('overrides,expected', CASES.values(), ids=CASES.keys())
def test_bad_config_values(tmp_path, overrides, expected):
  assert_one_line_error(run(classify_command(tmp_path, *overrides)), expected)


def assert_one_line_error(done, expected: str, code: int = 2):
  assert done.returncode == code, (done.stdout, done.stderr)
  lines = [line for line in done.stderr.splitlines() if line.strip()]
  assert 'Traceback' not in done.stderr
  assert len(lines) == 1 and lines[0].startswith('error: '), done.stderr
  assert expected in lines[0], lines[0]


def test_unwritable_workdir(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('')
  assert_one_line_error(run(classify_command(blocker / 'run')), 'is not writable')


def test_missing_workdir():
  command = [c for c in classify_command('x') if not c.startswith('--workdir')]
  assert_one_line_error(run(command), '--workdir is required')


def test_missing_config_file(tmp_path):
  command = classify_command(tmp_path, config='experiments/configs/no_such_config.py')
  assert_one_line_error(run(command), 'could not be loaded')


def test_unknown_config_argument(tmp_path):
  command = classify_command(tmp_path, config=MLP_QUICK + ',fast')
  assert_one_line_error(run(command), "config argument 'fast' is unknown; allowed: quick, seed")


def test_batch_not_divisible_by_the_device_count(tmp_path):
  done = run(classify_command(tmp_path, '--config.train.batch_size=10'), devices=4)
  assert_one_line_error(
      done, 'config.train.batch_size=10 is not allowed: a multiple of the device count (4)')


def test_resume_with_another_config_keeps_the_old_run(tmp_path):
  first = run(
      classify_command(tmp_path, '--config.train.num_steps=20', '--config.train.eval_every=10'))
  assert_finished(first)
  before = (tmp_path / 'metrics.jsonl').read_text()
  done = run(
      classify_command(tmp_path, '--config.train.num_steps=40', '--config.train.eval_every=10'))
  assert_one_line_error(done,
                        'holds a run with a different config (config.train.num_steps: 20 there')
  assert (tmp_path / 'metrics.jsonl').read_text() == before


def test_reproduce_unknown_study():
  done = run([sys.executable, '-m', 'launch.reproduce', 'alchemy'])
  assert_one_line_error(done, "'alchemy' is neither a family nor a study; allowed: all, mnist1d, "
                              "implicit_regularisation, uncertainty, rl, fundamentals, "
                              "generative or one of mnist1d_logreg")


def test_a_config_naming_an_unknown_study_is_one_line(tmp_path):
  done = run(classify_command(tmp_path, '--config.study=alchemy'))
  assert_one_line_error(done, "config.study='alchemy' is not allowed: one of classification, "
                              "mnist1d_logreg")


def assert_diverged(done):
  """A forced divergence: exit 1 and one line naming the metric (split/name) and the step."""
  assert_one_line_error(done, "training diverged: metric '", code=1)
  assert re.search(r"metric '(train|test)/\w+' is (nan|inf|-inf) at step \d+", done.stderr)


DIVERGING = {  # a config per kind of training loop, with its uniform way to diverge
    'classification loop': ('experiments/configs/mnist1d/mlp.py:quick',
                            ['--config.optimizer.learning_rate=1e30', '--config.train.num_steps=200',
                             '--config.train.eval_every=100', '--config.checkpoint_every=100',
                             '--config.progress=False']),
    'RL runner': ('experiments/configs/rl/ppo_cartpole.py:quick',
                  ['--config.optimizer.learning_rate=1e30', '--config.anneal_lr=False',
                   '--config.total_timesteps=2048', '--config.num_seeds=2',
                   '--config.max_grad_norm=1e30']),
}  # every other study's loop: launch.guard_walk, in CI


@pytest.mark.parametrize('config,overrides', DIVERGING.values(), ids=DIVERGING.keys())
def test_a_forced_divergence_is_one_line_and_exit_1(tmp_path, config, overrides):
  command = [sys.executable, '-m', 'experiments.main', f'--config={config}',
             f'--workdir={tmp_path}', *overrides]
  assert_diverged(run(command))


def test_the_guard_walk_passes_a_guarded_study_and_fails_one_that_does_not_diverge(tmp_path):
  """launch.guard_walk (run over the whole registry by .ci/run) can fail: overrides
  that do not make the run diverge give an exit 0, which it reports as a failure."""
  from experiments import registry
  from launch import guard_walk
  logreg = registry.STUDIES['mnist1d_logreg']
  passed = guard_walk.check(logreg, tmp_path, timeout=240)
  assert passed.passed, passed.detail
  assert passed.detail.startswith("metric 'train/")
  tame = dataclasses.replace(logreg, diverge=('train.num_steps=100',))
  failed = guard_walk.check(tame, tmp_path / 'tame', timeout=240)
  assert not failed.passed
  assert failed.detail.startswith('exit 3')  # it finished, and its claim failed


def test_the_resume_check_fails_when_the_resumed_records_differ(tmp_path, monkeypatch):
  """guard_walk.check_resume compares bytes: a resumed run whose second chunk
  logs anything else (here a changed loss) fails; equal records pass."""
  from experiments import registry
  from launch import guard_walk
  study = registry.STUDIES['mnist1d_mlp']

  def fake_run(loss_after_resume):
    def run_child(command, timeout):
      del timeout
      workdir = next(a.split('=', 1)[1] for a in command if a.startswith('--workdir='))
      metrics = pathlib.Path(workdir) / 'metrics.jsonl'
      metrics.parent.mkdir(parents=True, exist_ok=True)
      resumed = metrics.exists()
      with metrics.open('a') as f:
        if 'straight' in workdir:
          f.write('{"step": 50, "train/loss": 1.0}\n{"step": 100, "train/loss": 0.5}\n')
        else:
          f.write(f'{{"step": 100, "train/loss": {loss_after_resume}}}\n' if resumed
                  else '{"step": 50, "train/loss": 1.0}\n')
      return subprocess.CompletedProcess(command, 0, '', '')
    return run_child

  monkeypatch.setattr(guard_walk, '_run', fake_run(0.5))
  assert guard_walk.check_resume(study, tmp_path / 'same', 10).passed
  monkeypatch.setattr(guard_walk, '_run', fake_run(0.6))
  outcome = guard_walk.check_resume(study, tmp_path / 'differs', 10)
  assert not outcome.passed and 'differs' in outcome.detail


def test_reproduce_turns_gpu_determinism_on_once():
  from launch.reproduce import GPU_DETERMINISM_FLAG, with_gpu_determinism
  assert with_gpu_determinism('') == GPU_DETERMINISM_FLAG
  assert with_gpu_determinism('--xla_force_host_platform_device_count=4') == (
      f'--xla_force_host_platform_device_count=4 {GPU_DETERMINISM_FLAG}')
  assert with_gpu_determinism('--xla_gpu_deterministic_ops=false') == (
      '--xla_gpu_deterministic_ops=false')  # the user's own choice stands
