"""Reader for MNIST-format IDX files, so local copies of MNIST/Fashion-MNIST train.

Put the four standard files (gzipped or not) in one folder and pass it as
`data_dir` with dataset name 'idx':
  train-images-idx3-ubyte  train-labels-idx1-ubyte
  t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte
"""
from __future__ import annotations

import gzip
import pathlib
import zlib

import numpy as np

from dl_course.data.registry import register
from dl_course.errors import DataNotFoundError, UserError

_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
# The IDX type byte -> numpy dtype (big-endian where it matters).
_DTYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}


def read_idx(path: str | pathlib.Path) -> np.ndarray:
  """Reads one IDX file (plain or .gz) into an array of its declared shape."""
  path = pathlib.Path(path)
  opener = gzip.open if path.suffix == '.gz' else open
  try:
    with opener(path, 'rb') as f:
      raw = f.read()
  except (EOFError, gzip.BadGzipFile, zlib.error) as e:  # truncated or not gzip at all
    raise UserError(f'{path} cannot be read as a gzipped IDX file ({e}); replace it with '
                    'a complete copy') from None
  except OSError as e:
    raise UserError(f'{path} cannot be read ({e.strerror or e})') from None
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
    raise UserError(f'{path} is not an IDX file (bad magic number {raw[:4].hex()})')
  dtype, ndim = np.dtype(_DTYPES[raw[2]]), raw[3]
  shape = tuple(int(d) for d in np.frombuffer(raw, '>u4', count=ndim, offset=4))
  offset = 4 + 4 * ndim
  expected = int(np.prod(shape)) * dtype.itemsize
  if len(raw) - offset != expected:
    raise UserError(f'{path}: header says {shape} ({expected} bytes of data) '
                    f'but the file holds {len(raw) - offset}')
  return np.frombuffer(raw, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder('='))


def write_idx(path: str | pathlib.Path, array: np.ndarray) -> None:
  """Writes an IDX file (gzipped if the name ends in .gz); used to make test data."""
  code = {np.dtype(v).newbyteorder('='): k for k, v in _DTYPES.items()}[array.dtype]
  header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, '>u4').tobytes()
  body = array.astype(np.dtype(_DTYPES[code])).tobytes()
  opener = gzip.open if str(path).endswith('.gz') else open
  with opener(path, 'wb') as f:
    f.write(header + body)


def _find(folder: pathlib.Path, stem: str) -> pathlib.Path:
  for candidate in (folder / stem, folder / f'{stem}.gz'):
    if candidate.exists():
      return candidate
  raise DataNotFoundError(
      f'dataset idx: {folder / stem}[.gz] not found; put the four MNIST-format files '
      f'({", ".join(s for pair in _FILES.values() for s in pair)}) in one folder and pass '
      f'it as config.data.dir')


@register('idx', per_split=True)
def idx(data_dir=None, splits=('train', 'test')):
  if not data_dir:
    raise DataNotFoundError(
        'dataset idx needs config.data.dir: a folder with the MNIST-format files '
        'train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...')
  folder = pathlib.Path(data_dir).expanduser()
  wanted, splits, missing = splits, {}, {}
  for split, (images, labels) in _FILES.items():
    if split not in wanted:
      continue
    try:  # a split whose files are absent is left out: one split may be all a run needs
      image_path, label_path = _find(folder, images), _find(folder, labels)
    except DataNotFoundError as e:
      missing[split] = e
      continue
    x, y = read_idx(image_path), read_idx(label_path)
    if len(x) != len(y):
      raise UserError(f'{folder}: {split} has {len(x)} images but {len(y)} labels')
    splits[split] = (x[..., None] / 255.0, y)
  if not splits:
    raise next(iter(missing.values()))
  absent = ', '.join(f'{split} ({" and ".join(_FILES[split])}[.gz])' for split in missing)
  return splits, f'IDX files in {folder}' + (f'; no {absent} there' if absent else '')
