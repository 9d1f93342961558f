"""Evaluates a finished (or stopped) classification or regression run on another dataset.

  python -m experiments.evaluate --workdir=RUN [--data=NAME] [--data_dir=DIR] [--split=test]

The run's model and latest checkpoint come from RUN (dl_course.load_run); the
dataset is --data (default: the run's own), read with the run's data options
(image_shape, label_column, ...: a folder of images is resized as in training).
Accuracy, NLL, ECE (15 equal-width bins) and Brier score (a regression: RMSE,
and NLL for a Gaussian head, in the target's units) go to RUN/eval.json, one
entry per dataset and split (earlier entries are kept), and are printed.
"""
from __future__ import annotations

import copy
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from dl_course import data
from dl_course.classification.trainer import is_regression, target_statistics
from dl_course.engine.steps import gaussian_head
from dl_course.engine.records import is_writer, write_json
from dl_course.engine.state import apply_model
from dl_course.errors import UserError
from dl_course.runs import load_run
from dl_course.uncertainty import metrics
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'The run to evaluate.')
_DATA = flags.DEFINE_string('data', None, 'Dataset name (default: the run\'s own); '
                            f'one of {", ".join(data.names())}.')
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'Where that dataset\'s files are '
                                '(default: the run\'s data.dir when --data is the run\'s dataset).')
_SPLIT = flags.DEFINE_enum('split', 'test', ['train', 'test'], 'The split to score.')
_BATCH = flags.DEFINE_integer('batch_size', 1000, 'Examples per forward pass.', lower_bound=1)


def predict_outputs(run, x: np.ndarray, batch_size: int, finish=lambda outputs: outputs
                    ) -> np.ndarray:
  """finish(the run's model outputs) on `x`, in batches (evaluation mode)."""
  @jax.jit
  def outputs(x_batch):
    raw, _ = apply_model(run.model.apply, run.state.params, run.state.model_state, x_batch,
                         train=False)
    return finish(raw.astype(jnp.float32))
  return np.concatenate([np.asarray(outputs(x[i:i + batch_size]))
                         for i in range(0, len(x), batch_size)])


def predict_probs(run, x: np.ndarray, batch_size: int) -> np.ndarray:
  """Softmax outputs of the run's model on `x`, in batches (evaluation mode)."""
  return predict_outputs(run, x, batch_size, lambda logits: jax.nn.softmax(logits, axis=-1))


def regression_scores(run, scored, split: str, batch_size: int) -> dict:
  """RMSE (and a Gaussian head's NLL) in the target's units; the run's target
  standardisation is recomputed from its own training rows."""
  train = data.from_config(run.config.data, 'train')
  if run.config.data.validation_fraction:
    train, _ = data.hold_out(train, run.config.data.validation_fraction)
  offset, scale = target_statistics(train)
  outputs = predict_outputs(run, np.asarray(scored.x), batch_size).astype(np.float64)
  y, mean = np.asarray(scored.y, np.float64), outputs[:, 0] * scale + offset
  result = {f'{split}/rmse': metrics.rmse(mean, y)}
  if run.config.loss == 'gaussian_nll':
    variance = np.asarray(gaussian_head(jnp.asarray(outputs))[1], np.float64) * scale ** 2
    result[f'{split}/nll'] = metrics.gaussian_nll(mean, variance, y)
  return result


def evaluate(workdir: pathlib.Path, name: str | None, data_dir: str | None, split: str,
             batch_size: int) -> tuple[str, dict]:
  run = load_run(workdir)
  if run.model is None or 'dispatch' not in run.config:
    raise UserError(f'{workdir} is a {run.config.get("study")!r} run; experiments.evaluate '
                    'scores classification runs')
  trained = data.from_config(run.config.data, 'test').info
  data_config = copy.deepcopy(run.config.data)
  if name and name != data_config.name:
    data_config.name, data_config.dir = name, data_dir or ''
  elif data_dir:
    data_config.dir = data_dir
  scored = data.from_config(data_config, split)
  if scored.info.input_shape != trained.input_shape:
    raise UserError(f'dataset {data_config.name} has examples of shape {scored.info.input_shape} '
                    f'but the run trained on {trained.input_shape} ({trained.name}); for images '
                    'set the run\'s config.data.image_shape, or resize them to match')
  if is_regression(run.config):
    return f'{data_config.name}:{split}', {
        'step': run.step, 'examples': len(scored), 'source': scored.info.source,
        **regression_scores(run, scored, split, batch_size)}
  if scored.y.max() >= trained.num_classes:
    raise UserError(f'dataset {data_config.name} has labels up to {int(scored.y.max())} but the '
                    f'run\'s model has {trained.num_classes} classes')
  probs = predict_probs(run, np.asarray(scored.x), batch_size)
  y = np.asarray(scored.y)
  result = {'step': run.step, 'examples': len(y), 'source': scored.info.source,
            f'{split}/accuracy': metrics.accuracy(probs, y), f'{split}/nll': metrics.nll(probs, y),
            f'{split}/ece': metrics.ece(probs, y), f'{split}/brier': metrics.brier(probs, y)}
  return f'{data_config.name}:{split}', result


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not _WORKDIR.value:
    raise UserError('--workdir is required: the run to evaluate')
  workdir = pathlib.Path(_WORKDIR.value)
  key, result = evaluate(workdir, _DATA.value, _DATA_DIR.value, _SPLIT.value, _BATCH.value)
  path = workdir / 'eval.json'
  entries = json.loads(path.read_text()) if path.exists() else {}
  entries[key] = result
  if is_writer():
    write_json(path, entries)
  split = _SPLIT.value
  if f'{split}/rmse' in result:
    scores = f'RMSE {result[f"{split}/rmse"]:.4g}' + (
        f', NLL {result[f"{split}/nll"]:.4f}' if f'{split}/nll' in result else '')
  else:
    scores = (f'accuracy {100 * result[f"{split}/accuracy"]:.2f} %, NLL '
              f'{result[f"{split}/nll"]:.4f}, ECE {result[f"{split}/ece"]:.4f}, Brier '
              f'{result[f"{split}/brier"]:.4f}')
  print(f'{key} ({result["examples"]} examples, step {result["step"]}): {scores}; in {path}')


if __name__ == '__main__':
  cli.run(main)
