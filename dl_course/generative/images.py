"""Image data as integer pixel levels, the independent-pixel baseline every
likelihood model is compared with, and picture grids."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from dl_course import data

PIXEL_LEVELS = {'digits': 17, 'mnist5k': 256}


def integer_images(dataset: str):
  """(train, test) as float arrays of integer levels 0..L-1, [N, H, W, C]."""
  levels = PIXEL_LEVELS[dataset]
  splits = [data.load(dataset, split) for split in ('train', 'test')]
  return [np.round(s.x * (levels - 1)).astype(np.float32) for s in splits]


def independent_pixel_bits(train, test, levels: int) -> float:
  """Test bits/dim of per-pixel categoricals fitted (add-one smoothed) on train."""
  flat_train = train.reshape(len(train), -1).astype(int)
  flat_test = test.reshape(len(test), -1).astype(int)
  counts = np.ones((flat_train.shape[1], levels))
  for pixel in range(flat_train.shape[1]):
    counts[pixel] += np.bincount(flat_train[:, pixel], minlength=levels)
  log_probs = np.log2(counts / counts.sum(1, keepdims=True))
  return float(-np.mean(log_probs[np.arange(flat_test.shape[1]), flat_test]))


def independent_pixel_samples(train_x, key, n):
  """Each pixel drawn from its own marginal: the value at that pixel in a random
  training image, independently per pixel."""
  pixels = train_x.reshape(len(train_x), -1)
  rows = jax.random.randint(key, (n, pixels.shape[1]), 0, len(train_x))
  return pixels[rows, jnp.arange(pixels.shape[1])].reshape(n, *train_x.shape[1:])


def image_grid(images, columns: int):
  """[N, H, W, 1] images in [0, 1] -> one [rows*(H+1), columns*(W+1)] picture."""
  images = np.asarray(images)[..., 0]
  rows = int(math.ceil(len(images) / columns))
  height, width = images.shape[1:]
  grid = np.zeros((rows * (height + 1), columns * (width + 1)))  # white gaps under gray_r
  for i, image in enumerate(images):
    r, c = divmod(i, columns)
    grid[r * (height + 1):r * (height + 1) + height, c * (width + 1):c * (width + 1) + width] = image
  return grid


def binarised_mnist5k(seed: int, test_size: int):
  """(train intensities [4000, 784] in [0, 1], to be re-binarised every step;
  test [test_size, 784] binarised once with a key from `seed`)."""
  train, test = (data.load('mnist5k', s).x.reshape(-1, 784).astype(np.float32)
                 for s in ('train', 'test'))
  key = jax.random.fold_in(jax.random.key(seed), 1)
  return train, np.asarray(jax.random.bernoulli(key, test[:test_size]), np.float32)
