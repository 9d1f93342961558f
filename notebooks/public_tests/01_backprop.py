"""Public tests of week 1 (the grader passes the submission as a module)."""
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update('jax_enable_x64', True)

POINTS = {
    'test_softmax_cross_entropy_matches_autodiff': ('exercise 1: softmax cross-entropy', 2),
    'test_softmax_cross_entropy_survives_large_logits': ('exercise 1: softmax cross-entropy', 1),
    'test_relu_backward': ('exercise 2: ReLU and linear layer', 1),
    'test_linear_backward_matches_autodiff': ('exercise 2: ReLU and linear layer', 2),
    'test_mlp_gradients_match_autodiff': ('exercise 3: backprop through the MLP', 3),
}


def _cross_entropy(logits, labels):
  return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(len(labels)), labels])


def test_softmax_cross_entropy_matches_autodiff(submission):
  rng = np.random.default_rng(0)
  logits, labels = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
  loss, grad = submission.softmax_cross_entropy(logits.copy(), labels)
  assert np.isclose(loss, _cross_entropy(logits, labels), rtol=1e-10), 'the loss is wrong'
  assert np.asarray(grad).shape == logits.shape, 'the gradient has the wrong shape'
  np.testing.assert_allclose(grad, jax.grad(_cross_entropy)(logits, labels), atol=1e-10)


def test_softmax_cross_entropy_survives_large_logits(submission):
  logits, labels = np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([1, 0])
  loss, grad = submission.softmax_cross_entropy(logits.copy(), labels)
  assert np.isfinite(loss) and np.all(np.isfinite(grad)), 'overflow: shift the logits first'
  assert np.isclose(loss, 500.0), 'the loss of these logits is (1000 + 0) / 2'


def test_relu_backward(submission):
  z, grad_out = np.array([[-2.0, 0.5], [3.0, -0.1]]), np.array([[1.0, 2.0], [3.0, 4.0]])
  np.testing.assert_array_equal(submission.relu_backward(z, grad_out), [[0.0, 2.0], [3.0, 0.0]])


def test_linear_backward_matches_autodiff(submission):
  rng = np.random.default_rng(1)
  a_in, w, b, upstream = (rng.normal(size=s) for s in ((5, 3), (3, 2), (2,), (5, 2)))
  loss = lambda a, w, b: jnp.sum((a @ w + b) * upstream)
  expected = jax.grad(loss, argnums=(0, 1, 2))(a_in, w, b)
  for got, want, name in zip(submission.linear_backward(a_in, w, upstream), expected,
                             ('d a_in', 'd w', 'd b')):
    np.testing.assert_allclose(got, want, atol=1e-10, err_msg=name)


def test_mlp_gradients_match_autodiff(submission):
  from dl_course.fundamentals import backprop
  rng = np.random.default_rng(2)
  params = backprop.init_mlp(rng, [6, 5, 4, 3])
  x, labels = rng.normal(size=(8, 6)), rng.integers(0, 3, 8)
  loss, grads = submission.mlp_loss_and_grads(params, x, labels)
  expected = jax.grad(backprop.jax_loss)(params, x, labels, 'relu', 'softmax_cross_entropy')
  assert np.isclose(loss, backprop.jax_loss(params, x, labels, 'relu', 'softmax_cross_entropy'))
  assert backprop.relative_error(grads, expected) < 1e-8, 'gradients differ from jax.grad'
