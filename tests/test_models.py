import jax
import numpy
import jax.numpy as jnp
import pytest

from dl_course import models
from dl_course.errors import ConfigError


@pytest.mark.parametrize('config,input_shape,num_params', [
    ({'name': 'logreg'}, (40,), 410),
    ({'name': 'mlp', 'hidden_sizes': (100, 100)}, (40,), 15210),
    # The MNIST-1D paper's CNN: 40 -> 19 -> 10 -> 5 positions x 25 channels -> 10.
    ({'name': 'cnn1d'}, (40,), (5 * 1 + 1) * 25 + (3 * 25 + 1) * 25 * 2 + 125 * 10 + 10),
    ({'name': 'gru', 'hidden_size': 6}, (40,), None),
    ({'name': 'lenet'}, (28, 28, 1), None),
    ({'name': 'resnet', 'stage_channels': (4, 8)}, (12, 12, 1), None),
    ({'name': 'mlp', 'hidden_sizes': (8,), 'batch_norm': True}, (40,), None),
])
def test_models_map_inputs_to_logits(config, input_shape, num_params):
  model = models.build(config, num_classes=10)
  x = jnp.ones((3, *input_shape))
  variables = jax.jit(model.init)(jax.random.key(0), x)  # eager conv nets compile op by op
  assert jax.jit(model.apply)(variables, x).shape == (3, 10)
  if num_params is not None:
    assert sum(p.size for p in jax.tree.leaves(variables)) == num_params


def test_gru_reads_both_directions():
  model = models.build({'name': 'gru', 'hidden_size': 4}, num_classes=3)
  variables = model.init(jax.random.key(0), jnp.ones((1, 40)))
  assert set(variables['params']) == {'GRUCell_0', 'GRUCell_1', 'Dense_0'}  # one cell per direction
  # 40 steps x 2 directions x 4 units feed the head.
  assert variables['params']['Dense_0']['kernel'].shape == (320, 3)


def test_dropout_is_active_only_in_training():
  model = models.build({'name': 'mlp', 'dropout_rate': 0.5}, num_classes=2)
  x = jnp.ones((4, 5))
  variables = model.init(jax.random.key(0), x)
  eval_a, eval_b = model.apply(variables, x), model.apply(variables, x)
  assert jnp.array_equal(eval_a, eval_b)
  train_a = model.apply(variables, x, train=True, rngs={'dropout': jax.random.key(1)})
  train_b = model.apply(variables, x, train=True, rngs={'dropout': jax.random.key(2)})
  assert not jnp.array_equal(train_a, train_b)


@pytest.mark.parametrize('config,match', [
    ({'name': 'resnet999'}, 'model.name'),
    ({'name': 'logreg', 'hidden_sizes': (3,)}, 'takes only no arguments'),
    ({'name': 'mlp', 'activation': 'swishy'}, 'model.activation'),
    ({'name': 'mlp', 'dropout_rate': 1.0}, 'model.dropout_rate'),
])
def test_bad_model_configs_name_the_key(config, match):
  with pytest.raises(ConfigError, match=match):
    models.build(config, num_classes=10)


def test_residual_mlp_adds_each_later_hidden_layer_to_its_input():
  """The MNIST-1D paper's MLP: h1 = relu(W1 x + b1), h2 = h1 + relu(W2 h1 + b2)."""
  model = models.MLP(num_classes=3, hidden_sizes=(5, 5), residual=True)
  x = jax.random.normal(jax.random.key(0), (4, 7))
  params = model.init(jax.random.key(1), x)['params']
  dense = lambda name, h: h @ params[name]['kernel'] + params[name]['bias']
  h1 = jax.nn.relu(dense('Dense_0', x))
  h2 = h1 + jax.nn.relu(dense('Dense_1', h1))
  numpy.testing.assert_allclose(model.apply({'params': params}, x), dense('Dense_2', h2),
                             rtol=1e-6, atol=1e-6)
  plain = models.MLP(num_classes=3, hidden_sizes=(5, 5))
  assert jax.tree.structure(plain.init(jax.random.key(1), x)) == jax.tree.structure(
      model.init(jax.random.key(1), x))  # same parameters: a checkpoint of either loads
