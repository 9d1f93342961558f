"""Public tests of the uncertainty module."""
import numpy as np
from sklearn.metrics import roc_auc_score

from dl_course.uncertainty import metrics

POINTS = {'test_ece_matches_the_course': ('exercise 1: ECE and AUROC', 3),
          'test_auroc_matches_sklearn': ('exercise 1: ECE and AUROC', 2)}


def test_ece_matches_the_course(submission):
  rng = np.random.default_rng(0)
  probs = rng.dirichlet(np.ones(4), size=300)
  labels = rng.integers(0, 4, 300)
  ours = submission.expected_calibration_error(probs, labels)
  assert abs(ours - metrics.ece(probs, labels)) < 1e-9
  confident = np.eye(4)[labels]
  assert submission.expected_calibration_error(confident, labels) < 1e-12


def test_auroc_matches_sklearn(submission):
  rng = np.random.default_rng(1)
  s_in, s_out = rng.normal(size=200).round(1), rng.normal(0.5, 1.0, size=100).round(1)  # with ties
  expected = roc_auc_score(np.r_[np.zeros(200), np.ones(100)], np.r_[s_in, s_out])
  assert abs(submission.auroc(s_in, s_out) - expected) < 1e-9
