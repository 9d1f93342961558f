"""Data augmentation written in JAX: pure functions of (key, image [H, W, C]),
mapped over a batch with one key per example, so they run inside the jitted
train step and every example gets its own transform.

  crop(image, padding, top, left)        the window of a zero-padded image
  random_crop(key, image, padding)
  random_flip(key, image)                left-right, with probability 1/2
  affine(image, degrees, shift_y, shift_x)   rotation about the centre and a
                                         translation, bilinear, zeros outside
  random_affine(key, image, max_degrees, max_shift)
  augment_batch(key, images, transform)  transform(key_b, image_b) for each b

A flip turns a 2 into something that is not a digit; for digits use crops and
small affine moves only.
"""
from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.scipy.ndimage import map_coordinates


def crop(image, padding: int, top, left):
  """The [H, W] window at (top, left) of the image zero-padded by `padding`:
  top = left = padding gives the image back."""
  height, width, channels = image.shape
  padded = jnp.pad(image, ((padding, padding), (padding, padding), (0, 0)))
  return jax.lax.dynamic_slice(padded, (top, left, 0), (height, width, channels))


def random_crop(key, image, padding: int):
  top, left = jax.random.randint(key, (2,), 0, 2 * padding + 1)
  return crop(image, padding, top, left)


def random_flip(key, image):
  return jnp.where(jax.random.bernoulli(key), image[:, ::-1], image)


def affine(image, degrees, shift_y, shift_x):
  """The image rotated by `degrees` (clockwise as displayed, row 0 at the top:
  90 degrees is np.rot90(image, -1)) about its centre and moved by (shift_y, shift_x) pixels; each output
  pixel samples the input bilinearly at the inverse-transformed position, zero
  where that falls outside."""
  height, width, _ = image.shape
  rows, cols = jnp.meshgrid(jnp.arange(height, dtype=jnp.float32),
                            jnp.arange(width, dtype=jnp.float32), indexing='ij')
  centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
  y, x = rows - shift_y - centre_y, cols - shift_x - centre_x
  angle = jnp.deg2rad(degrees)
  cos, sin = jnp.cos(angle), jnp.sin(angle)
  # Each output pixel looks up where it came from: the inverse rotation of its
  # (y down, x right) offset from the centre.
  source_y = cos * y - sin * x + centre_y
  source_x = sin * y + cos * x + centre_x
  sample = lambda channel: map_coordinates(channel, [source_y, source_x], order=1, cval=0.0)
  return jnp.stack([sample(image[..., c]) for c in range(image.shape[-1])], axis=-1)


def random_affine(key, image, max_degrees: float, max_shift: float):
  angle_key, shift_key = jax.random.split(key)
  degrees = jax.random.uniform(angle_key, (), minval=-max_degrees, maxval=max_degrees)
  shift_y, shift_x = jax.random.uniform(shift_key, (2,), minval=-max_shift, maxval=max_shift)
  return affine(image, degrees, shift_y, shift_x)


def augment_batch(key, images_BHWC, transform: Callable):
  """transform(key_b, image_b) for every example b, key_b = split(key, B)[b]."""
  keys = jax.random.split(key, images_BHWC.shape[0])
  return jax.vmap(transform)(keys, images_BHWC)


def digit_augmentation(padding: int, max_degrees: float, max_shift: float) -> Callable:
  """(key, images) -> images: a random crop of the padded image, then a small
  random rotation and translation, one draw per example."""
  def transform(key, image):
    crop_key, affine_key = jax.random.split(key)
    if padding:
      image = random_crop(crop_key, image, padding)
    return random_affine(affine_key, image, max_degrees, max_shift)
  return lambda key, images: augment_batch(key, images, transform)
