"""Temperature scaling (Guo et al. 2017): one scalar T > 0 dividing the logits,
fitted by minimising the NLL on a held-out validation split."""
from __future__ import annotations

import numpy as np
from scipy import optimize, special


def scaled_nll(logits_NC, y_N, temperature: float) -> float:
  log_probs = special.log_softmax(np.asarray(logits_NC, np.float64) / temperature, axis=1)
  return float(-np.mean(log_probs[np.arange(len(y_N)), y_N]))


def fit_temperature(logits_NC, y_N) -> float:
  """argmin over T in [0.05, 20] of the validation NLL (a 1-D convex search in log T)."""
  result = optimize.minimize_scalar(lambda log_t: scaled_nll(logits_NC, y_N, np.exp(log_t)),
                                    bounds=(np.log(0.05), np.log(20.0)), method='bounded',
                                    options={'xatol': 1e-6})
  return float(np.exp(result.x))


def apply_temperature(logits_NC, temperature: float) -> np.ndarray:
  return special.softmax(np.asarray(logits_NC, np.float64) / temperature, axis=1)
