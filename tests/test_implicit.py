"""Implicit-regularisation studies: their helpers, determinism, and bad input.

The quick variant of every study runs in CI through `launch.reproduce`.
"""
import json
import sys

import numpy as np
import pytest
from sklearn.svm import LinearSVC

from dl_course.engine.grid import chunk_batches
from dl_course.errors import ConfigError
from dl_course.implicit import (double_descent, edge_of_stability, gradient_regularisation,
                                max_margin, min_norm, random_labels)
from experiments.configs.implicit_regularisation import double_descent as double_descent_config
from experiments.configs.implicit_regularisation import \
    gradient_regularisation as gradient_regularisation_config
from tests.helpers import assert_finished, run
from tests.test_cli import assert_one_line_error

EOS = 'experiments/configs/implicit_regularisation/edge_of_stability.py:quick'
RANDOM_LABELS = 'experiments/configs/implicit_regularisation/random_labels.py:quick'


def implicit_command(config, workdir, *overrides):
  return [sys.executable, '-m', 'experiments.main', f'--config={config}',
          f'--workdir={workdir}', *overrides]


def test_hard_margin_svm_is_the_max_margin_direction():
  z = max_margin.separable_data(0, 50)
  w = max_margin.hard_margin_svm(z)
  margins = z @ w
  assert margins.min() == pytest.approx(1.0, abs=1e-6)  # active constraints at 1
  svc = LinearSVC(C=1e6, loss='hinge', fit_intercept=False, tol=1e-10, max_iter=1_000_000)
  svc.fit(np.vstack([z, -z]), np.r_[np.ones(len(z)), -np.ones(len(z))])
  reference = svc.coef_[0] / np.linalg.norm(svc.coef_[0])
  assert reference @ (w / np.linalg.norm(w)) > 0.9999


def test_gd_schedule_reaches_the_pseudo_inverse():
  x = np.random.default_rng(0).standard_normal((10, 30))
  y = np.random.default_rng(1).standard_normal((10, 1))
  import optax
  learning_rate, steps = min_norm.gd_schedule(x, 1e-6)
  w, tracked = min_norm.solve(x, y, np.zeros((30, 1)), optax.sgd(learning_rate), steps)
  pinv = np.linalg.pinv(x) @ y
  assert np.linalg.norm(w - pinv) <= 1e-6 * np.linalg.norm(pinv)
  assert tracked.shape == (steps, 2) and tracked[-1, 1] < 1e-6


def test_corrupted_labels_are_nested_and_sized():
  y = np.arange(1000) % 10
  labels = random_labels.corrupt_labels(y, (0.0, 0.2, 0.5, 1.0), 10, seed=3)
  changed = labels != y
  assert not changed[0].any()
  assert changed[1].sum() <= 200 and changed[2].sum() <= 500
  assert np.all(changed[1] <= changed[2]) and np.all(changed[2] <= changed[3])
  assert abs(changed[3].mean() - 0.9) < 0.03  # 1/10 of random labels hit the true class


def test_noisy_labels_change_about_the_expected_fraction():
  y = np.zeros(20000, np.int64)
  noisy = double_descent.noisy_labels(y, 0.15, 10, seed=0)
  assert abs(np.mean(noisy != y) - 0.15 * 0.9) < 0.01


def test_double_descent_landmarks():
  rows = [{'width': w, 'mean_train_error': tr, 'mean_test_error': te} for w, tr, te in
          ((2, .7, .69), (8, .5, .48), (16, .3, .50), (32, .05, .56), (64, 0., .53),
                         (128, 0., .46))]
  marks = double_descent.curve_landmarks(rows)
  assert marks == {'classical_width': 8, 'classical_test_error': .48, 'peak_width': 32,
                   'peak_test_error': .56, 'interpolation_width': 64}


def test_eos_entry_is_a_crossing_from_below():
  lr = 0.1  # 2/η = 20
  steps = list(range(0, 80, 10))
  sharpness = [30, 10, 12, 15, 19, 20.5, 19.5, 20.2]  # starts above 2/η, dips, returns
  stats = edge_of_stability.eos_statistics(lr, steps, sharpness, list(np.linspace(1, .1, 80)))
  assert stats['eos_entry_step'] == 40
  assert stats['eos_mean'] == pytest.approx(np.mean([19, 20.5, 19.5, 20.2]) * lr / 2)
  assert stats['sharpening_factor'] == pytest.approx(1.9)  # 10 -> 19 at entry


def test_batches_depend_on_seed_and_step_only():
  x = np.arange(100)[:, None].astype(np.float32)
  y = np.tile(np.arange(100), (3, 1))
  xs, ys = chunk_batches(7, 5, 4, x, y, 10)
  xs2, _ = chunk_batches(7, 7, 2, x, y, 10)
  assert xs.shape == (4, 10, 1) and ys.shape == (3, 4, 10)
  np.testing.assert_array_equal(xs[2:], xs2)
  np.testing.assert_array_equal(ys[0], xs[..., 0].astype(int))


@pytest.mark.parametrize('config,overrides', [
    (EOS, ['--config.num_train=200', '--config.train.num_steps=40', '--config.sharpness_every=10']),
    # Random labels: three processes byte-identical in the device-count test below.
], ids=['edge_of_stability'])
@pytest.mark.slow
def test_two_runs_write_identical_metrics(tmp_path, config, overrides):
  outputs = []
  for name in ('a', 'b'):
    done = run(implicit_command(config, tmp_path / name, *overrides))
    assert_finished(done)
    outputs.append((tmp_path / name / 'metrics.jsonl').read_bytes())
  assert outputs[0] and outputs[0] == outputs[1]
  assert (tmp_path / 'a' / 'manifest.json').exists() and (tmp_path / 'a' / 'config.json').exists()
  assert list((tmp_path / 'a').glob('*.png'))


BAD = {
    'negative learning rate': (EOS, ['--config.learning_rates=(0.1,-1.0)'],
                               'config.learning_rates=(0.1, -1.0) is not allowed: a non-empty '
                               'list of numbers > 0'),
    'unknown loss': (EOS, ['--config.loss=hinge'], "config.loss='hinge'"),
    'too many examples': (EOS, ['--config.num_train=99999'], 'config.num_train=99999'),
    'unknown config argument':
        ('experiments/configs/implicit_regularisation/edge_of_stability.py:model=vit', [],
         "model (config argument)='vit'"),
    'fraction above 1': (RANDOM_LABELS, ['--config.fractions=(0.5,2.0)'], 'config.fractions='),
    'unknown study': (RANDOM_LABELS, ['--config.study=grokking'], "config.study='grokking'"),
    'claim interval reversed': (EOS, ['--config.claim.eos_mean=(1.2,0.9)'],
                                'config.claim.eos_mean=(1.2, 0.9) is not allowed: a number, or '
                                'an interval'),
    'missing idx files':
        (RANDOM_LABELS, ['--config.data.name=idx', '--config.data.dir=/nonexistent'],
         'dataset idx: /nonexistent/train-images-idx3-ubyte'),
}


@pytest.mark.parametrize('config,overrides,expected', BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line(tmp_path, config, overrides, expected):
  assert_one_line_error(run(implicit_command(config, tmp_path, *overrides)), expected)


@pytest.mark.slow
@pytest.mark.parametrize('runs_per_group,device_counts', [(1, (1, 2, 4)), (0, (1, 4))],
                         ids=['groups spread', 'one group'])
def test_a_grid_is_bit_identical_on_one_two_and_four_devices(tmp_path, runs_per_group,
                                                             device_counts):
  """Random labels, 4 runs, 300 steps. One run per group: on 2 and 4 devices each
  device trains its own groups; one group of 4: one device trains all four."""
  overrides = [
      '--config.num_train=1000', '--config.train.max_steps=300', '--config.train.eval_every=100',
      '--config.fractions=(0.0,0.3,0.6,1.0)', '--config.model.hidden_sizes=(64,64)',
      f'--config.runs_per_group={runs_per_group}'
  ]
  metrics = {}
  for devices in device_counts:
    done = run(implicit_command(RANDOM_LABELS, tmp_path / str(devices), *overrides),
               devices=devices)
    assert_finished(done)
    metrics[devices] = (tmp_path / str(devices) / 'metrics.jsonl').read_text()
    manifest = json.loads((tmp_path / str(devices) / 'manifest.json').read_text())
    assert manifest['devices']['count'] == devices
  records = [json.loads(line) for line in metrics[1].splitlines()]
  assert max(r['step'] for r in records) == 300 and len(records) == 12
  assert all(metrics[devices] == metrics[1] for devices in device_counts)


def test_epochwise_second_descent_measures_the_bump():
  assert double_descent.epochwise_second_descent([5, 3, 4, 2, 2.5]) == 1.0
  assert double_descent.epochwise_second_descent([5, 4, 3, 3]) == 0.0
  assert double_descent.epochwise_second_descent([3, 5, 4.5]) == 0.5


def test_gradient_regularisation_refuses_rates_that_run_under_two_steps():
  """A rate above flow_time / 2 would run 0 or 1 steps: its error curve is empty
  and the fitted order meaningless, so the config is refused up front."""
  config = gradient_regularisation_config.get_config('quick')
  gradient_regularisation.validate(config)
  config.learning_rates = (0.1, 4.0)
  with pytest.raises(ConfigError, match=r'learning_rates=.*at most flow_time / 2 \(2\.5\)'):
    gradient_regularisation.validate(config)
  config.learning_rates = (0.1,)
  with pytest.raises(ConfigError, match='at least two rates'):
    gradient_regularisation.validate(config)



def test_claim_thresholds_come_from_the_config():
  """The same summary passes or fails as config.claim moves its thresholds."""
  config = double_descent_config.get_config('quick')
  rows = [{'width': w, 'mean_test_error': e, 'mean_train_error': t}
          for w, e, t in ((4, 0.40, 0.3), (8, 0.50, 0.005), (16, 0.42, 0.0))]
  summary = {**double_descent.curve_landmarks(rows), 'widest_test_error': 0.42,
             'num_train': 2000}
  assert all(c.passed for c in double_descent.claims(config, summary))
  config.claim.min_fall = 0.2
  config.claim.peak_over_threshold = (3.0, 4.0)
  passed = [c.passed for c in double_descent.claims(config, summary)]
  assert passed == [True, False, False]


def test_a_threshold_that_decides_no_claim_is_found():
  """launch.reproduce fails a study whose config.claim holds a threshold no claim
  reads (dead keys hide claims that cannot fail)."""
  from dl_course.claims import ungated_thresholds
  config = double_descent_config.get_config('quick')
  rows = [{'width': w, 'mean_test_error': e, 'mean_train_error': t}
          for w, e, t in ((4, 0.40, 0.3), (8, 0.50, 0.005), (16, 0.42, 0.0))]
  summary = {**double_descent.curve_landmarks(rows), 'widest_test_error': 0.42,
             'num_train': 2000}
  assert ungated_thresholds(double_descent.claims, config, summary) == []
  with config.unlocked():
    config.claim.unused = 1.0
  assert ungated_thresholds(double_descent.claims, config, summary) == ['unused']
