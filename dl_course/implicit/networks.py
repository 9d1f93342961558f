"""Shared by the network studies: data subsets, losses, and sharpness."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data, models
from dl_course.curvature import FlatHessian, top_eigenpairs
from dl_course.errors import ConfigError

LOSSES = ('mse', 'xent')


def subset(dataset: str, split: str, num_examples: int, data_dir: str = ''
           ) -> tuple[np.ndarray, np.ndarray, int]:
  """The first `num_examples` of a split (all if 0): x, y, number of classes."""
  full = data.load(dataset, split, data_dir)
  available = len(full.x)
  if num_examples > available:
    raise ConfigError('num_train' if split == 'train' else 'num_test', num_examples,
                      f'<= {available} (the size of {dataset}/{split})')
  n = num_examples or available
  return full.x[:n], full.y[:n], full.info.num_classes


def output_loss(loss_name: str, num_classes: int):
  """(outputs [C, K], labels [C]) -> [C] losses. 'mse' is ½||f(x) - onehot(y)||²,
  as in Cohen et al. 2021; 'xent' the softmax cross-entropy."""
  if loss_name not in LOSSES:
    raise ConfigError('loss', loss_name, 'one of ' + ', '.join(LOSSES))

  def loss(outputs_CK, y_C):
    if loss_name == 'mse':
      return 0.5 * jnp.sum((outputs_CK - jax.nn.one_hot(y_C, num_classes)) ** 2, axis=-1)
    return optax.softmax_cross_entropy_with_integer_labels(outputs_CK, y_C)
  return loss


def per_example_loss(model, loss_name: str, num_classes: int):
  """(params, x_C, y_C) -> [C] losses."""
  loss = output_loss(loss_name, num_classes)
  return lambda params, x_C, y_C: loss(model.apply({'params': params}, x_C), y_C)


def training_loss(loss_name: str, num_classes: int):
  """The engine's `loss_fn(outputs, batch) -> (loss, metrics)` for this loss."""
  loss = output_loss(loss_name, num_classes)

  def loss_fn(outputs_BK, batch):
    mean = loss(outputs_BK, batch['y']).mean()
    return mean, {'loss': mean, 'accuracy': jnp.mean(jnp.argmax(outputs_BK, -1) == batch['y'])}
  return loss_fn


def build_model(config, num_classes: int):
  return models.build(config.model, num_classes)


def stage_model(config, stage: str):
  """The network every stage of a study trains on `config.data.name` (config.model),
  for load_run."""
  del stage
  _, _, num_classes = subset(config.data.name, 'test', 1, config.data.dir)
  return build_model(config, num_classes)


def sharpness(operator: FlatHessian, v0: np.ndarray | None = None, tol: float = 1e-4
              ) -> tuple[float, np.ndarray]:
  """λ_max of the operator's Hessian (Lanczos, warm-started from v0)."""
  values, vectors = top_eigenpairs(operator.matvec, operator.dim, k=1, v0=v0, tol=tol)
  return float(values[0]), vectors[:, 0]
