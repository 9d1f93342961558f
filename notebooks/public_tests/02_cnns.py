"""Public tests of week 2."""
import jax
import numpy as np

POINTS = {'test_conv2d_matches_lax': ('exercise 1: convolution and pooling', 3),
          'test_max_pool_takes_each_block_maximum': ('exercise 1: convolution and pooling', 1)}


def test_conv2d_matches_lax(submission):
  rng = np.random.default_rng(0)
  x, w = rng.normal(size=(7, 6, 2)), rng.normal(size=(3, 2, 2, 5))
  expected = jax.lax.conv_general_dilated(x[None], w, (1, 1), 'VALID',
                                          dimension_numbers=('NHWC', 'HWIO', 'NHWC'))[0]
  got = np.asarray(submission.conv2d(x, w))
  assert got.shape == (5, 5, 5), f'output shape {got.shape}, expected (5, 5, 5)'
  np.testing.assert_allclose(got, expected, atol=1e-4)


def test_max_pool_takes_each_block_maximum(submission):
  x = np.arange(32, dtype=float).reshape(4, 4, 2)
  expected = np.array([[[10, 11], [14, 15]], [[26, 27], [30, 31]]], float)
  np.testing.assert_array_equal(submission.max_pool_2x2(x), expected)
