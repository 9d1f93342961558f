"""Public tests of week 3."""
import jax
import numpy as np

POINTS = {'test_causal_mask': ('exercise 1: attention', 1),
          'test_attention_matches_jax': ('exercise 1: attention', 2),
          'test_causal_attention_matches_jax': ('exercise 1: attention', 2)}


def test_causal_mask(submission):
  np.testing.assert_array_equal(submission.causal_mask(3),
                                [[True, False, False], [True, True, False], [True, True, True]])


def _check(submission, causal):
  rng = np.random.default_rng(1)
  q, k, v = (rng.normal(size=(5, 8)) for _ in range(3))
  out, weights = submission.attention(q, k, v, causal=causal)
  expected = jax.nn.dot_product_attention(q[None, :, None], k[None, :, None], v[None, :, None],
                                          is_causal=causal)[0, :, 0]
  np.testing.assert_allclose(out, expected, atol=1e-5)
  np.testing.assert_allclose(np.asarray(weights).sum(axis=1), 1.0, atol=1e-6)


def test_attention_matches_jax(submission):
  _check(submission, causal=False)


def test_causal_attention_matches_jax(submission):
  _check(submission, causal=True)
