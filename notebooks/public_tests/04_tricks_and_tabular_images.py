"""Public tests of week 4."""
import jax
import numpy as np

POINTS = {'test_standardise_uses_training_statistics': ('exercise 1: standardisation', 2),
          'test_standardise_keeps_a_constant_column_finite': ('exercise 1: standardisation', 1),
          'test_inverted_dropout_keeps_the_mean': ('exercise 1: dropout', 2)}


def test_standardise_uses_training_statistics(submission):
  rng = np.random.default_rng(0)
  train, test = rng.normal(3.0, 2.0, size=(500, 4)), rng.normal(-1.0, 5.0, size=(50, 4))
  scaled_train, scaled_test = submission.standardise(train, test)
  np.testing.assert_allclose(scaled_train.mean(0), 0.0, atol=1e-10)
  np.testing.assert_allclose(scaled_train.std(0), 1.0, atol=1e-10)
  np.testing.assert_allclose(scaled_test, (test - train.mean(0)) / train.std(0), atol=1e-10)


def test_standardise_keeps_a_constant_column_finite(submission):
  train = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
  scaled, _ = submission.standardise(train, train)
  assert np.all(np.isfinite(scaled)), 'a constant column must not be divided by 0'
  np.testing.assert_allclose(scaled[:, 1], 0.0)


def test_inverted_dropout_keeps_the_mean(submission):
  x = np.ones((400, 250))
  out = np.asarray(submission.inverted_dropout(x, 0.25, jax.random.key(3)))
  assert abs(np.mean(out == 0) - 0.25) < 0.01, 'about a quarter of the entries should be zero'
  assert set(np.unique(out)) <= {0.0, 1.0 / 0.75}, 'kept entries are scaled by 1 / (1 - rate)'
  assert abs(out.mean() - 1.0) < 0.02
