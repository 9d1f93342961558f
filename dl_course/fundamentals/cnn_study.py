"""CNNs on MNIST-5k (4,000 training and 1,000 test images, 28x28): a
LeNet-style network and a small ResNet; data augmentation written in JAX; and
transfer learning from digits 0-4 to 5-9.

- Architectures: LeNet (conv 5x5 -> pool, twice; dense) and a ResNet with
  batch norm (`dl_course.models.ResNet`), both trained with Adam on all 4,000.
- Augmentation: LeNet on `augment_train_size` images, with and without a
  random crop of the zero-padded image plus a small random rotation and
  translation (`augment.digit_augmentation`, one draw per example per step).
  No flips: a mirrored digit is not a digit.
- Transfer: LeNet pretrained on the training images of digits 0-4; then digits
  5-9 with `labels_per_class` labelled images each, three ways: from scratch,
  a linear probe (a fresh head trained on the frozen pretrained features) and
  fine-tuning (every layer trained, starting from the pretrained weights with a
  fresh head); all tested on every test image of 5-9.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import CHECK, FINDING, Claim, at_least
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.fundamentals.augment import digit_augmentation
from dl_course.fundamentals.tricks import fit_classifier
from dl_course.models.cnn import LeNet, ResNet
from dl_course.plots import plt, save_figure

HEAD = 'Dense_1'  # LeNet's output layer


def validate(config) -> None:
  for key in ('train.num_steps', 'augment_steps', 'pretrain_steps', 'transfer_steps',
              'train.batch_size', 'train.eval_every', 'augment_train_size', 'resnet_blocks',
              'lenet_hidden'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'augment_train_size', 1, 4000, integer=True)
  check_number_list(config, 'labels_per_class', 1, 300, integer=True)
  check_number_list(config, 'lenet_channels', 1, integer=True)
  check_number_list(config, 'resnet_channels', 1, integer=True)
  check_range(config, 'stem_stride', 1, 2, integer=True)
  for key in ('optimizer.learning_rate', 'lenet_target', 'resnet_target'):
    check_range(config, key, 0.0, low_open=True)
  check_range(config, 'crop_padding', 0, 8, integer=True)
  check_range(config, 'max_degrees', 0.0, 180.0)
  check_range(config, 'max_shift', 0.0, 8.0)
  for key in ('train.num_steps', 'augment_steps', 'pretrain_steps', 'transfer_steps'):
    check_multiple(config, key, 'train.eval_every')


def lenet(config, num_classes: int) -> LeNet:
  return LeNet(num_classes, tuple(config.lenet_channels), config.lenet_hidden)


def fit(config, model, x, y, test, num_steps, batch_size=None, **kwargs):
  return fit_classifier(model, optax.adam(config.optimizer.learning_rate), x, y, seed=config.seed,
                        num_steps=num_steps, batch_size=batch_size or config.train.batch_size,
                        eval_every=config.train.eval_every, eval_sets={'test': test}, **kwargs)


def architectures_part(config, train, test, log) -> dict:
  out = {}
  resnet = ResNet(10, tuple(config.resnet_channels), config.resnet_blocks, config.stem_stride)
  for name, model in (('LeNet', lenet(config, 10)), ('ResNet', resnet)):
    _, history, _ = fit(config, model, *train, test, config.train.num_steps)
    out[name] = history
    log({'step': config.train.num_steps,
         'part': 'architectures', 'model': name, 'test_accuracy': history['test/accuracy'][-1]})
  return out


def augmentation_part(config, train, test, log) -> dict:
  x, y = train[0][:config.augment_train_size], train[1][:config.augment_train_size]
  augment = digit_augmentation(config.crop_padding, config.max_degrees, config.max_shift)
  out = {}
  for name, transform in (('plain', None), ('augmented', augment)):
    _, history, _ = fit(config, lenet(config, 10), x, y, test, config.augment_steps,
                        augment=transform)
    out[name] = history
    log({'step': config.augment_steps,
         'part': 'augmentation', 'training': name, 'test_accuracy': history['test/accuracy'][-1]})
  out['examples'] = np.asarray(augment(jax.random.key(config.seed), x[:8])).tolist()
  out['originals'] = np.asarray(x[:8]).tolist()
  return out


def few_labels(y, classes, per_class: int, seed: int) -> np.ndarray:
  """Indices of the first `per_class` examples of each class in a seeded order."""
  order = np.random.default_rng(seed).permutation(len(y))
  chosen = [order[y[order] == c][:per_class] for c in classes]
  if min(map(len, chosen)) < per_class:
    raise ConfigError('labels_per_class', per_class, 'at most the examples of the rarest class')
  return np.sort(np.concatenate(chosen))


def transfer_part(config, train, test, log) -> dict:
  (x, y), (test_x, test_y) = train, test
  source, target_test = y < 5, test_y >= 5
  pretrained, history, _ = fit(config, lenet(config, 5), x[source], y[source],
                               (test_x[test_y < 5], test_y[test_y < 5]), config.pretrain_steps)
  log({'step': config.pretrain_steps,
       'part': 'transfer', 'pretrain_test_accuracy_0_4': history['test/accuracy'][-1]})
  model = lenet(config, 5)
  head_key = jax.random.fold_in(jax.random.key(config.seed), 1)
  start = {**pretrained.params, HEAD: model.init(head_key, x[:2])['params'][HEAD]}
  head_only = optax.multi_transform(
      {'train': optax.adam(config.optimizer.learning_rate), 'frozen': optax.set_to_zero()},
      {layer: ('train' if layer == HEAD else 'frozen') for layer in start})
  runs = {'from scratch': (optax.adam(config.optimizer.learning_rate), None),
          'linear probe': (head_only, start),
          'fine-tuning': (optax.adam(config.optimizer.learning_rate), start)}
  target = (test_x[target_test], test_y[target_test] - 5)
  out = {'pretrain': history, 'labels_per_class': list(config.labels_per_class)}
  for per_class in config.labels_per_class:
    labelled = few_labels(y, range(5, 10), per_class, config.seed)
    for name, (tx, initial_params) in runs.items():
      state, run_history, _ = fit_classifier(
          model, tx, x[labelled], y[labelled] - 5, seed=config.seed,
          num_steps=config.transfer_steps, batch_size=min(config.train.batch_size, len(labelled)),
          eval_every=config.train.eval_every, eval_sets={'test': target}, initial_params=initial_params)
      if name == 'linear probe':  # the frozen layers must not have moved
        frozen = lambda params: {layer: v for layer, v in params.items() if layer != HEAD}
        moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))),
                             frozen(state.params), frozen(start))
        out['probe frozen change'] = max(out.get('probe frozen change', 0.0),
                                         *jax.tree.leaves(moved))
      out[f'{name}, {per_class} per class'] = run_history
      log({'step': config.transfer_steps,
           'part': 'transfer', 'training': name, 'labels_per_class': per_class,
           'test_accuracy_5_9': run_history['test/accuracy'][-1]})
  return out


def run(config, log) -> dict:
  train, test = data.load('mnist5k', 'train'), data.load('mnist5k', 'test')
  train, test = (train.x, train.y), (test.x, test.y)
  return {'architectures': architectures_part(config, train, test, log),
          'augmentation': augmentation_part(config, train, test, log),
          'transfer': transfer_part(config, train, test, log)}


def final(history) -> float:
  return history['test/accuracy'][-1]


def claims(config, summary) -> list[Claim]:
  arch, aug, transfer = summary['architectures'], summary['augmentation'], summary['transfer']
  fewest = min(config.labels_per_class)
  scratch = final(transfer[f'from scratch, {fewest} per class'])
  tuned = final(transfer[f'fine-tuning, {fewest} per class'])
  probe = final(transfer[f'linear probe, {fewest} per class'])
  return [
      at_least(f'LeNet {tuple(config.lenet_channels)} on MNIST-5k: test accuracy',
               final(arch['LeNet']), config.lenet_target, scale=100, unit=' %', kind=FINDING),
      at_least(f'ResNet {tuple(config.resnet_channels)} on MNIST-5k: test accuracy',
               final(arch['ResNet']), config.resnet_target, scale=100, unit=' %', kind=FINDING),
      at_least(f'LeNet on {config.augment_train_size} images: test accuracy gain from '
               'crop + rotation + translation', final(aug['augmented']) - final(aug['plain']),
               config.claim.min_augment_gain, scale=100, unit=' pts', kind=FINDING),
      Claim(f'digits 5-9 from {fewest} label(s) per class: fine-tuning a 0-4 LeNet vs from '
            f'scratch (linear probe: {100 * probe:.1f} %)',
            f'>= scratch + {100 * config.claim.min_transfer_gain:g} pts',
            f'{100 * tuned:.1f} vs {100 * scratch:.1f} %',
            bool(tuned >= scratch + config.claim.min_transfer_gain), kind=FINDING),
      Claim('linear probe: the frozen layers did not move', '0',
            f'{transfer["probe frozen change"]:.1g}', transfer['probe frozen change'] == 0.0,
            kind=CHECK),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
  panels = ((summary['architectures'], ('LeNet', 'ResNet'), 'MNIST-5k'),
            (summary['augmentation'], ('plain', 'augmented'), 'LeNet, few images'))
  for ax, (histories, names, title) in zip(axes, panels):
    for name in names:
      ax.plot(histories[name]['step'], histories[name]['test/accuracy'], label=name)
    ax.set(title=f'{title}: test accuracy', xlabel='step')
    ax.legend()
  transfer = summary['transfer']
  counts = transfer['labels_per_class']
  for name in ('from scratch', 'linear probe', 'fine-tuning'):
    axes[2].plot(counts, [final(transfer[f'{name}, {n} per class']) for n in counts], 'o-',
                 label=name)
  axes[2].set(xscale='log', xlabel='labels per class', title='digits 5-9: test accuracy')
  axes[2].legend()
  save_figure(fig, workdir / 'cnn_training.png')
  aug = summary['augmentation']
  fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
  for i in range(8):
    for row, images in enumerate((aug['originals'], aug['examples'])):
      axes[row, i].imshow(np.asarray(images[i])[..., 0], cmap='gray_r', vmin=0, vmax=1)
      axes[row, i].axis('off')
  axes[0, 0].set_title('originals', loc='left')
  axes[1, 0].set_title('augmented (one draw each)', loc='left')
  save_figure(fig, workdir / 'augmentation_examples.png')
