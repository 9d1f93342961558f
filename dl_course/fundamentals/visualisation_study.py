"""Seeing inside a CNN trained on MNIST-5k (dl_course.fundamentals.visualise).

Trains the class-activation-map network, then asks whether its explanations
are faithful and its class images recognisable:
  - deletion test: blanking the pixels saliency ranks highest lowers the
    probability of the true class far more than blanking as many randomly
    chosen ink pixels (a map that pointed at irrelevant pixels would not);
  - Grad-CAM equals CAM on this architecture (global average pooling, linear
    head), checked on the trained network;
  - pointing game (reported, not claimed): how often the Grad-CAM peak falls
    in the digit's bounding box (grown by 2 px) — 59 % here: the 7x7 maps of
    this small network often peak just outside the digit or in a loop's hole;
  - activation maximisation: each class's optimised image is classified as
    that class;
  - figures: inputs with saliency and Grad-CAM, the class images, the filters.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import CHECK, FINDING, Claim, at_least, at_most
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.fundamentals import visualise
from dl_course.engine.blocks import train_args, train_in_blocks
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('train.num_steps', 'train.batch_size', 'train.eval_every', 'num_explained',
              'maximise_steps', 'pointing_radius'):
    check_range(config, key, 1, integer=True)
  check_number_list(config, 'channels', 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_number_list(config, 'deletion_fractions', 0, 1, low_open=True)
  if config.deletion_fraction not in config.deletion_fractions:
    raise ConfigError('deletion_fraction', config.deletion_fraction,
                      f'one of deletion_fractions {list(config.deletion_fractions)}')
  check_multiple(config, 'train.num_steps', 'train.eval_every')


def stage_model(config, stage: str = 'cnn'):
  """The CNN the study explains (its one stage, 'cnn'), for load_run."""
  del stage
  return visualise.CAMNet(data.load('mnist5k', 'test').info.num_classes, tuple(config.channels))


def train(config, train_split, test_split, progress):
  model = stage_model(config)
  params = model.init(jax.random.key(config.seed), train_split.x[:1])['params']
  x_test, y_test = jnp.asarray(test_split.x), jnp.asarray(test_split.y)

  def loss(params, xb, yb):
    logits = model.apply({'params': params}, xb)
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

  def accuracy(params):
    return jnp.mean(model.apply({'params': params}, x_test).argmax(-1) == y_test)

  def record(step, value, test_accuracy):
    progress.log({'step': step, 'train/loss': value, 'test/accuracy': test_accuracy})

  params, losses, accuracies = train_in_blocks(
      loss, accuracy, params, optax.adam(config.optimizer.learning_rate), train_split.x,
      train_split.y, **train_args(config), log=record,
      checkpoints=progress.checkpoints('cnn'))
  return model, params, accuracies


def true_class_probability(model, params, x, y):
  return jnp.take_along_axis(jax.nn.softmax(model.apply({'params': params}, x)), y[:, None],
                             1)[:, 0]


def deletion_test(config, model, params, x, y) -> dict:
  key = jax.random.fold_in(jax.random.key(config.seed), 1)
  # Only ink pixels are ranked: blanking a pixel that is already background changes nothing.
  ink = (x[..., 0] > 0.1).astype(jnp.float32)
  rankings = {'saliency': visualise.saliency(model, params, x, y) * ink,
              'grad_cam': (visualise.grad_cam(model, params, x, y) + 1e-6) * ink,
              'random ink': jax.random.uniform(key, ink.shape) * ink}
  before = true_class_probability(model, params, x, y)
  return {name: {f'{fraction:g}': float(jnp.mean(before - true_class_probability(
                     model, params, visualise.delete_pixels(x, scores, fraction), y)))
                 for fraction in config.deletion_fractions}
          for name, scores in rankings.items()}


def pointing_game(config, model, params, x, y) -> float:
  """Share of maps whose peak lies in the digit's bounding box grown by
  `pointing_radius` pixels (Zhang et al. 2016's pointing game, with the box as
  the object: a loop's empty centre is part of the digit)."""
  cams = np.asarray(visualise.grad_cam(model, params, x, y))
  ink = np.asarray(x[..., 0] > 0.1)
  radius = config.pointing_radius
  hits = 0
  for cam, mask in zip(cams, ink):
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    r, c = np.unravel_index(np.argmax(cam), cam.shape)
    hits += bool(rows[0] - radius <= r <= rows[-1] + radius
                 and cols[0] - radius <= c <= cols[-1] + radius)
  return hits / len(cams)


def run(config, progress) -> dict:
  train_split, test_split = data.load('mnist5k', 'train'), data.load('mnist5k', 'test')
  model, params, accuracies = train(config, train_split, test_split, progress)
  x = jnp.asarray(test_split.x[:config.num_explained])
  y = jnp.asarray(test_split.y[:config.num_explained])
  classes = jnp.arange(train_split.info.num_classes)
  images = visualise.maximise_class(model, params, classes, train_split.x.shape[1:],
                                    jax.random.fold_in(jax.random.key(config.seed), 2),
                                    steps=config.maximise_steps)
  probabilities = jax.nn.softmax(model.apply({'params': params}, images))
  shown = slice(0, 8)
  return {
      'test_accuracy': accuracies.tolist(),
      'deletion_probability_drop': deletion_test(config, model, params, x, y),
      'ink_pixels_per_image': float(jnp.mean(jnp.sum(x[..., 0] > 0.1, axis=(1, 2)))),
      'pointing_game': pointing_game(config, model, params, x, y),
      'grad_cam_vs_cam': float(jnp.max(jnp.abs(visualise.grad_cam(model, params, x, y)
                                               - visualise.class_activation_map(model, params,
                                                                                x, y)))),
      'maximised_probability': np.asarray(probabilities[classes, classes]).tolist(),
      'maximised_argmax': np.asarray(probabilities.argmax(-1)).tolist(),
      'figure': {'inputs': np.asarray(x[shown, ..., 0]).tolist(),
                 'labels': np.asarray(y[shown]).tolist(),
                 'saliency': np.asarray(visualise.saliency(model, params, x[shown],
                                                           y[shown])).tolist(),
                 'grad_cam': np.asarray(visualise.grad_cam(model, params, x[shown],
                                                           y[shown])).tolist(),
                 'maximised': np.asarray(images[..., 0]).tolist(),
                 'filters': np.asarray(params['convs_0']['kernel'][:, :, 0, :]).tolist()},
  }


def claims(config, summary) -> list[Claim]:
  drops = {name: by_fraction[f'{config.deletion_fraction:g}']
           for name, by_fraction in summary['deletion_probability_drop'].items()}
  ratio = drops['saliency'] / max(drops['random ink'], 1e-6)
  correct = sum(a == c for c, a in enumerate(summary['maximised_argmax']))
  return [
      at_least(f'CAM network ({list(config.channels)}, global average pooling) on MNIST-5k, '
               f'test accuracy', summary['test_accuracy'][-1], config.target_accuracy,
               unit=' %', scale=100, kind=FINDING),
      at_least(f'deletion test: blanking the top {config.deletion_fraction:.0%} of pixels by '
               f'saliency lowers p(true class) by {drops["saliency"]:.3f}, random ink pixels '
               f'by {drops["random ink"]:.3f}: ratio', ratio, config.min_deletion_ratio,
               unit='x', kind=FINDING),
      at_most('Grad-CAM equals CAM on the trained global-average-pooling network (max '
              'difference of the normalised maps)', summary['grad_cam_vs_cam'],
              config.claim.max_grad_cam_difference,
              digits=1, fmt='e', kind=CHECK),
      Claim('activation maximisation: each class image is classified as its class',
            '10 of 10', f'{correct} of 10 (min p = {min(summary["maximised_probability"]):.2f})',
            correct == len(summary['maximised_argmax']), kind=FINDING),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  figure = summary['figure']
  count = len(figure['inputs'])
  fig, axes = plt.subplots(3, count, figsize=(1.6 * count, 5))
  for i in range(count):
    image = np.asarray(figure['inputs'][i])
    axes[0, i].imshow(image, cmap='gray')
    axes[0, i].set_title(f'label {figure["labels"][i]}', fontsize=8)
    axes[1, i].imshow(np.asarray(figure['saliency'][i]), cmap='hot')
    axes[2, i].imshow(image, cmap='gray')
    axes[2, i].imshow(np.asarray(figure['grad_cam'][i]), cmap='jet', alpha=0.5)
  for ax, name in zip(axes[:, 0], ('input', 'saliency', 'Grad-CAM')):
    ax.set_ylabel(name)
  for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
  save_figure(fig, workdir / 'saliency_gradcam.png')

  maximised = np.asarray(figure['maximised'])
  filters = np.asarray(figure['filters'])  # [3, 3, K]
  columns = max(len(maximised), 8)
  fig, axes = plt.subplots(2, columns, figsize=(1.4 * columns, 3.4))
  for ax in axes.flat:
    ax.axis('off')
  for c, image in enumerate(maximised):
    axes[0, c].imshow(image, cmap='gray', vmin=0, vmax=1)
    axes[0, c].set_title(f'class {c}', fontsize=8)
  for k in range(min(filters.shape[-1], columns)):
    axes[1, k].imshow(filters[..., k], cmap='bwr')
  fig.suptitle('top: activation maximisation per class; bottom: first-layer 3x3 filters')
  save_figure(fig, workdir / 'class_images_filters.png')
