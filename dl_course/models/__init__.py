"""Flax Linen models, built by name from a config's `model` section."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import flax.linen as nn

from dl_course.errors import ConfigError
from dl_course.models.cnn import CNN1D, LeNet, ResNet
from dl_course.models.mlp import ACTIVATIONS, MLP, LogisticRegression
from dl_course.models.rnn import GRUClassifier

MODELS: dict[str, type[nn.Module]] = {
    'logreg': LogisticRegression,
    'mlp': MLP,
    'cnn1d': CNN1D,
    'lenet': LeNet,
    'resnet': ResNet,
    'gru': GRUClassifier,
}


# The example ranks (without the batch axis) a model accepts; None: any.
INPUT_RANKS: dict[str, tuple[int, ...] | None] = {
    'logreg': None, 'mlp': None, 'cnn1d': (1, 2), 'gru': (1, 2), 'lenet': (3,), 'resnet': (3,)}
RANK_NAMES = {1: 'signals [T]', 2: 'sequences [T, C]', 3: 'images [H, W, C]'}


def check_input_shape(name: str, input_shape: tuple[int, ...], dataset: str) -> None:
  """A one-line error when the data's examples do not fit the model (e.g. a 2-D
  CNN on 1-D signals), before anything is traced."""
  ranks = INPUT_RANKS.get(name)
  if ranks is not None and len(input_shape) not in ranks:
    wanted = ' or '.join(RANK_NAMES[r] for r in ranks)
    raise ConfigError('model.name', name,
                      f'a model for examples of shape {tuple(input_shape)} (dataset '
                      f'{dataset!r}); {name!r} takes {wanted}')


def hyperparameters(name: str) -> list[str]:
  """The keyword arguments a model takes besides num_classes."""
  fields = dataclasses.fields(MODELS[name])
  return [f.name for f in fields if f.name not in ('num_classes', 'parent', 'name')]


def build(model_config: Mapping, num_classes: int) -> nn.Module:
  """Builds `MODELS[model_config['name']]` with the other keys as arguments."""
  kwargs = dict(model_config)
  name = kwargs.pop('name')
  if name not in MODELS:
    raise ConfigError('model.name', name, 'one of ' + ', '.join(sorted(MODELS)))
  allowed = hyperparameters(name)
  for key, value in kwargs.items():
    if key not in allowed:
      raise ConfigError(f'model.{key}', value,
                        f'model {name!r} takes only {", ".join(allowed) or "no arguments"}')
  if 'activation' in kwargs and kwargs['activation'] not in ACTIVATIONS:
    raise ConfigError('model.activation', kwargs['activation'], 'one of ' + ', '.join(ACTIVATIONS))
  if not 0.0 <= kwargs.get('dropout_rate', 0.0) < 1.0:
    raise ConfigError('model.dropout_rate', kwargs['dropout_rate'], '0 <= rate < 1')
  kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
  return MODELS[name](num_classes=num_classes, **kwargs)


__all__ = ['INPUT_RANKS', 'check_input_shape', 'CNN1D', 'GRUClassifier', 'LeNet', 'LogisticRegression', 'MLP', 'MODELS', 'ResNet',
           'build', 'hyperparameters']
