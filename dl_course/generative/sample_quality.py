"""How close generated images are to real ones, seen through a classifier
trained on the real images (`models.FeatureClassifier`): the classes the samples
fall in, the classifier's confidence on them, and the Fréchet distance between
Gaussians fitted to their features and to the real test images' features (FID's
formula, Heusel et al. 2017, on a small classifier's features: not comparable
with published FIDs)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from dl_course.models.mlp import FeatureClassifier


def frechet_distance(features_a, features_b) -> float:
  """‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½) between Gaussian fits (float64)."""
  a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
  mean_a, mean_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  # tr (Σa Σb)^½ = tr (Σa^½ Σb Σa^½)^½, a symmetric PSD form: eigenvalues instead of
  # sqrtm, which warns on the singular covariances that dead ReLU features give.
  values, vectors = scipy.linalg.eigh(cov_a)
  root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
  trace_root = np.sum(np.sqrt(np.clip(scipy.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)))
  return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
               - 2.0 * trace_root)


def judge_samples(judge, params, samples, test_features) -> dict:
  """Classes covered (those with at least a third of a fair 1/10 share), class
  shares, mean confidence and Fréchet distance of `samples` under `judge`."""
  probabilities = jax.nn.softmax(judge.apply({'params': params}, samples))
  shares = np.bincount(np.asarray(jnp.argmax(probabilities, -1)), minlength=10) / len(samples)
  features = judge.apply({'params': params}, samples, method=FeatureClassifier.features)
  return {'classes_covered': int(np.sum(shares >= 1 / 30)), 'class_shares': shares.tolist(),
          'confidence': float(jnp.max(probabilities, -1).mean()),
          'frechet': frechet_distance(features, test_features)}
