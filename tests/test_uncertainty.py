"""Uncertainty metrics against hand-computed cases; MC dropout, ensembles, UCI."""
import sys

import jax
import numpy as np
import pytest

from dl_course.data import load
from dl_course.models import MLP
from dl_course.uncertainty import ensembles, metrics, temperature, uci
from dl_course.uncertainty.mc_dropout import mc_dropout_probs
from tests.helpers import run
from tests.test_cli import assert_one_line_error

PROBS = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
LABELS = np.array([0, 0, 1])


def test_accuracy_nll_brier_by_hand():
  assert metrics.accuracy(PROBS, LABELS) == pytest.approx(1 / 3)
  assert metrics.nll(PROBS, LABELS) == pytest.approx(-(np.log(.9) + np.log(.4) + np.log(.3)) / 3)
  assert metrics.brier(PROBS, LABELS) == pytest.approx((0.02 + 0.72 + 0.98) / 3)


def test_ece_equal_width_and_equal_mass_by_hand():
  # Two equal-width bins: every confidence (.9, .6, .7) falls in [.5, 1]; accuracy 1/3.
  assert metrics.ece(PROBS, LABELS, num_bins=2) == pytest.approx(abs(1 / 3 - 2.2 / 3))
  # Three equal-mass bins hold one example each: |1-.9|, |0-.6|, |0-.7|.
  assert metrics.ece(PROBS, LABELS, num_bins=3, scheme='mass') == pytest.approx(1.4 / 3)
  bins = metrics.calibration_bins(PROBS, LABELS, num_bins=2)
  np.testing.assert_allclose(bins['count'], [0, 3])


def test_a_perfectly_calibrated_predictor_has_small_ece():
  rng = np.random.default_rng(0)
  confidence = rng.uniform(0.5, 1.0, 200_000)
  correct = rng.random(200_000) < confidence
  probs = np.stack([confidence, 1 - confidence], 1)
  labels = np.where(correct, 0, 1)
  assert metrics.ece(probs, labels) < 0.005
  assert metrics.ece(probs, labels, scheme='mass') < 0.005


def test_entropy_and_mutual_information():
  assert metrics.entropy(np.full((1, 4), 0.25))[0] == pytest.approx(np.log(4))
  disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # [S=2, N=1, C=2]
  agree = np.array([[[0.5, 0.5]], [[0.5, 0.5]]])
  assert metrics.mutual_information(disagree)[0] == pytest.approx(np.log(2))
  assert metrics.mutual_information(agree)[0] == pytest.approx(0.0, abs=1e-12)


def test_ood_detection_auroc_and_aupr():
  perfect = metrics.ood_detection(np.array([0., 1, 2]), np.array([3., 4]))
  assert perfect == {'auroc': 1.0, 'aupr': 1.0}
  mixed = metrics.ood_detection(np.array([0., 2]), np.array([1., 3]))
  assert mixed['auroc'] == pytest.approx(0.75)  # 3 of the 4 (out, in) pairs ordered
  assert mixed['aupr'] == pytest.approx((1 + 2 / 3) / 2)


def test_regression_metrics_and_mixture():
  assert metrics.gaussian_nll([0.0], [1.0], [0.0]) == pytest.approx(0.5 * np.log(2 * np.pi))
  assert metrics.rmse([1.0, 3.0], np.array([0.0, 0.0])) == pytest.approx(np.sqrt(5))
  mean, variance = ensembles.mixture_moments([[0.0], [2.0]], [[1.0], [1.0]])
  assert mean[0] == pytest.approx(1.0) and variance[0] == pytest.approx(2.0)


def test_temperature_scaling_recovers_the_true_temperature():
  rng = np.random.default_rng(0)
  logits = rng.standard_normal((20_000, 5)) * 3
  probs = np.exp(logits / 2.0)
  probs /= probs.sum(1, keepdims=True)
  labels = np.array([rng.choice(5, p=p) for p in probs])
  assert temperature.fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.05)
  np.testing.assert_allclose(temperature.apply_temperature(logits[:3], 2.0), probs[:3])


@pytest.fixture(scope='module')
def dropout_model():
  x = load('moons', 'train').x[:64]
  model = MLP(num_classes=2, hidden_sizes=(32,), dropout_rate=0.5)
  return model, model.init(jax.random.key(0), x[:1])['params'], x


def test_mc_dropout_is_a_pure_function_of_the_key(dropout_model):
  model, params, x = dropout_model
  first = mc_dropout_probs(model.apply, params, x, jax.random.key(1), 8)
  again = mc_dropout_probs(model.apply, params, x, jax.random.key(1), 8)
  other = mc_dropout_probs(model.apply, params, x, jax.random.key(2), 8)
  fewer = mc_dropout_probs(model.apply, params, x, jax.random.key(1), 4)
  assert first.shape == (8, 64, 2)
  np.testing.assert_array_equal(first, again)
  np.testing.assert_array_equal(first[:4], fewer)  # sample t does not depend on T
  assert not np.allclose(first, other)
  assert np.std(np.asarray(first), axis=0).mean() > 1e-3  # the masks differ


def test_ensemble_members_differ_and_match_members_trained_alone():
  train = load('moons', 'train')
  x, y = train.x[:256], train.y[:256]
  model = MLP(num_classes=2, hidden_sizes=(16,))
  keys = ensembles.member_keys(0, 3)
  kwargs = dict(learning_rate=1e-2, num_steps=60, batch_size=32, seed=5, steps_per_dispatch=25)
  together = ensembles.train_members(model, x, y, keys, **kwargs)
  first = jax.tree.map(lambda a: a[0], together.params)
  second = jax.tree.map(lambda a: a[1], together.params)
  assert not np.allclose(first['Dense_0']['kernel'], second['Dense_0']['kernel'])
  for m in range(3):
    alone = ensembles.train_members(model, x, y, keys[m:m + 1], **kwargs)
    jax.tree.map(lambda a, b, m=m: np.testing.assert_allclose(a[m], b[0], rtol=1e-5, atol=1e-6),
                 together.params, alone.params)
  probs = ensembles.member_probs(model, together.params, x)
  assert probs.shape == (3, 256, 2)
  assert metrics.accuracy(np.asarray(probs).mean(0), y) > 0.85


def test_uci_splits_are_disjoint_and_reproducible():
  train, test = uci.random_splits(506, 20, seed=0)
  assert train.shape == (20, 455) and test.shape == (20, 51)
  for s in range(20):
    assert len(np.intersect1d(train[s], test[s])) == 0
    assert len(np.union1d(train[s], test[s])) == 506
  np.testing.assert_array_equal(train, uci.random_splits(506, 20, seed=0)[0])
  assert not np.array_equal(train[0], train[1])


def test_dropout_log_likelihood_with_one_sample_is_the_gaussian_density():
  y, prediction, tau = np.array([1.0, 2.0]), np.array([[0.5, 2.5]]), 4.0
  expected = np.mean(-0.5 * np.log(2 * np.pi / tau) - 0.5 * tau * (y - prediction[0]) ** 2)
  assert uci.dropout_log_likelihood(prediction, y, tau) == pytest.approx(expected)
  # Two identical samples give the same value: the mean over samples is in probability space.
  assert uci.dropout_log_likelihood(np.repeat(prediction, 2, 0), y, tau) == pytest.approx(expected)


@pytest.mark.parametrize('override,expected', [
    ("--config.datasets=('wine',)", "config.datasets=('wine',) is not allowed: names from: boston"),
    ('--config.dropout_rates=(0.1,1.0)', 'config.dropout_rates=(0.1, 1.0) is not allowed: rates'),
    ('--config.num_splits=1', 'config.num_splits=1 is not allowed: >= 2'),
], ids=['unknown dataset', 'dropout rate 1', 'one split'])
def test_uci_bad_input_is_one_line(tmp_path, override, expected):
  done = run([sys.executable, '-m', 'experiments.uncertainty',
              '--config=experiments/configs/uncertainty_uci.py:quick', f'--workdir={tmp_path}',
              override])
  assert_one_line_error(done, expected)


def test_ood_scores_and_report_of_member_predictions():
  members = np.array([[[0.9, 0.1], [0.5, 0.5]],
                      [[0.9, 0.1], [0.1, 0.9]]])  # [S=2, N=2, C=2]: the members disagree on x_1
  scores = metrics.ood_scores(members)
  assert scores['max_prob'][1] > scores['max_prob'][0]  # lower confidence scores higher
  assert scores['entropy'][1] > scores['entropy'][0]
  assert scores['mutual_information'][0] == pytest.approx(0.0, abs=1e-12)
  assert scores['mutual_information'][1] > 0.1
  report = metrics.classification_report(members, np.array([0, 1]), num_bins=2)
  assert report['accuracy'] == 1.0
  assert report['nll'] == pytest.approx(-(np.log(0.9) + np.log(0.7)) / 2)
  assert set(report) == {'accuracy', 'nll', 'brier', 'ece', 'ece_equal_mass'}
