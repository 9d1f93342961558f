"""Metrics of predictive distributions, on the host in float64.

Classification inputs are probabilities: `probs_NC` for one predictive
distribution, `member_probs_SNC` for S samples (MC-dropout masks or ensemble
members) whose mean is the predictive distribution. Regression inputs are
Gaussian means and variances in the targets' units.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-12  # floor for log(0): a probability of exactly 0 on the true class


def accuracy(probs_NC, y_N) -> float:
  return float(np.mean(np.argmax(probs_NC, -1) == y_N))


def nll(probs_NC, y_N) -> float:
  """Mean negative log-likelihood of the true classes (nats)."""
  p = np.asarray(probs_NC, np.float64)[np.arange(len(y_N)), y_N]
  return float(-np.mean(np.log(np.maximum(p, EPS))))


def brier(probs_NC, y_N) -> float:
  """Mean over examples of sum over classes (p_c - 1[c = y])² (0 to 2)."""
  probs = np.asarray(probs_NC, np.float64)
  onehot = np.eye(probs.shape[1])[y_N]
  return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def calibration_bins(probs_NC, y_N, num_bins: int = 15, scheme: str = 'width') -> dict:
  """Confidence (max prob) binned into equal-width ('width') or equal-count
  ('mass') bins: per-bin count, mean confidence and accuracy."""
  probs = np.asarray(probs_NC, np.float64)
  confidence = probs.max(1)
  correct = (probs.argmax(1) == y_N).astype(np.float64)
  if scheme == 'width':
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side='left') - 1, 0, num_bins - 1)
  elif scheme == 'mass':
    order = np.argsort(confidence, kind='stable')
    index = np.empty(len(confidence), np.int64)
    index[order] = np.arange(len(confidence)) * num_bins // len(confidence)
  else:
    raise ValueError(f'scheme={scheme!r}; allowed: width, mass')
  count = np.bincount(index, minlength=num_bins).astype(np.float64)
  safe = np.maximum(count, 1)
  return {'count': count,
          'confidence': np.bincount(index, confidence, num_bins) / safe,
          'accuracy': np.bincount(index, correct, num_bins) / safe}


def ece(probs_NC, y_N, num_bins: int = 15, scheme: str = 'width') -> float:
  """Expected calibration error: sum over bins of (n_b / N)·|acc_b - conf_b|."""
  bins = calibration_bins(probs_NC, y_N, num_bins, scheme)
  weights = bins['count'] / bins['count'].sum()
  return float(np.sum(weights * np.abs(bins['accuracy'] - bins['confidence'])))


def entropy(probs_NC) -> np.ndarray:
  """Entropy of each predictive distribution [N] (nats)."""
  p = np.asarray(probs_NC, np.float64)
  return -np.sum(p * np.log(np.maximum(p, EPS)), axis=-1)


def mutual_information(member_probs_SNC) -> np.ndarray:
  """The epistemic part of the predictive entropy [N]: H[mean_s p_s] - mean_s H[p_s]
  (the BALD score; 0 when every sample agrees)."""
  member_probs = np.asarray(member_probs_SNC, np.float64)
  return entropy(member_probs.mean(0)) - entropy(member_probs).mean(0)


def ood_scores(member_probs_SNC) -> dict:
  """Scores that should be higher for out-of-distribution inputs [N] each."""
  probs = np.asarray(member_probs_SNC, np.float64).mean(0)
  return {'max_prob': -probs.max(1), 'entropy': entropy(probs),
          'mutual_information': mutual_information(member_probs_SNC)}


def ood_detection(score_in_N, score_out_M) -> dict:
  """AUROC and AUPR (out-of-distribution as the positive class) of a score."""
  scores = np.concatenate([score_in_N, score_out_M])
  is_out = np.concatenate([np.zeros(len(score_in_N)), np.ones(len(score_out_M))])
  # scikit-learn takes ~0.6 s to import; only OOD evaluations need it.
  from sklearn import metrics as sk_metrics
  return {'auroc': float(sk_metrics.roc_auc_score(is_out, scores)),
          'aupr': float(sk_metrics.average_precision_score(is_out, scores))}


def gaussian_nll(mean_N, variance_N, y_N) -> float:
  """Mean negative log-likelihood of y under N(mean, variance) (nats)."""
  mean, variance, y = (np.asarray(a, np.float64) for a in (mean_N, variance_N, y_N))
  return float(np.mean(0.5 * np.log(2 * np.pi * variance) + 0.5 * (y - mean) ** 2 / variance))


def rmse(mean_N, y_N) -> float:
  return float(np.sqrt(np.mean((np.asarray(mean_N, np.float64) - y_N) ** 2)))


def classification_report(member_probs_SNC, y_N, num_bins: int = 15) -> dict:
  """Accuracy, NLL, Brier and both ECEs of the mean predictive distribution."""
  probs = np.asarray(member_probs_SNC, np.float64).mean(0)
  return {'accuracy': accuracy(probs, y_N), 'nll': nll(probs, y_N), 'brier': brier(probs, y_N),
          'ece': ece(probs, y_N, num_bins, 'width'),
          'ece_equal_mass': ece(probs, y_N, num_bins, 'mass')}
