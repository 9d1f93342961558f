"""Your own data through the same CLI: `csv`, `npz` and `image_folder`.

`config.data.dir` names the file or folder; the other `config.data` keys say
how to read it:

  csv           a .csv file, or a folder with train.csv (and test.csv). Features
                are every numeric column but the label (`label_column`), or
                `feature_columns`. An optional `image_column` holds image paths
                (relative to the CSV's folder); each image, resized to
                `image_shape`, is flattened in front of the features, so an MLP
                sees both (a Kaggle-style mix, like leaf classification).
  npz           arrays `x` and `y`, and optionally `split` (per row: 'train' or
                'test', or 0 = train / 1 = test); or x_train, y_train, x_test, y_test.
  image_folder  one subfolder per class of PNG/JPEG images; either at the top or
                under train/ (and test/). Read with Pillow and resized to
                `image_shape` = (H, W, C), C = 1 (grey) or 3 (RGB); with no
                `image_shape` every image must have the same size.

Labels may be any strings or numbers; the classes are their sorted distinct
values (or `classes`, when given: then any other label is an error). With
`task='regression'` (csv and npz) the label column or `y` holds real targets
instead: each must be a finite number, and they must not all be equal. Where no
test split is given, a fixed, seed-independent `test_fraction` of the rows is
the test split. Every data problem is one line naming the file and the line (CSV), row
(npz, from 1), column or image.
"""
from __future__ import annotations

import pathlib

import numpy as np

from dl_course.data.registry import fixed_split, register
from dl_course.errors import DataNotFoundError, UserError

# Test rows are drawn from this fixed stream, never from a run's seed, so that
# every seed and recipe is scored on the same rows.
TEST_SEED = 20_240_202
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


def _path(data_dir, kind: str) -> pathlib.Path:
  if not data_dir:
    raise DataNotFoundError(f'dataset {kind} needs config.data.dir: the file or folder to read')
  path = pathlib.Path(data_dir).expanduser()
  if not path.exists():
    raise DataNotFoundError(f'dataset {kind}: config.data.dir={str(data_dir)!r} does not exist')
  return path


def _split_off_test(x, y, fraction: float, where: str):
  rows = fixed_split(len(y), fraction, TEST_SEED)
  if rows is None:
    raise UserError(f'{where}: a test_fraction of {fraction} of {len(y)} rows leaves no test '
                    'or no training rows; give a test split or change config.data.test_fraction')
  train, test = rows
  return {'train': (x[train], y[train]), 'test': (x[test], y[test])}


def class_names(labels: list[np.ndarray], classes) -> tuple[str, ...]:
  """The classes: `classes` when given, else the sorted distinct labels."""
  if classes:
    return tuple(str(c) for c in classes)
  return tuple(sorted({str(v) for values in labels for v in values}, key=_natural))


def class_indices(labels: np.ndarray, names: tuple[str, ...], where: str,
                  row_offset: int = 1, row_word: str = 'row') -> np.ndarray:
  """Labels as 0..K-1; a label outside `names` is an error naming its row
  (row i of `labels` is `row_word` i + row_offset of `where`)."""
  index = {name: i for i, name in enumerate(names)}
  text = [str(v) for v in labels]
  unknown = [i for i, t in enumerate(text) if t not in index]
  if unknown:
    first = unknown[0]
    raise UserError(f'{where}, {row_word} {first + row_offset}: label {text[first]!r} is not '
                    f'one of the classes ({", ".join(names[:20])})')
  return np.asarray([index[t] for t in text], np.int32)


TASKS = ('classification', 'regression')


def _task(options, kind: str) -> str:
  task = options.get('task', 'classification')
  if task not in TASKS:
    raise UserError(f'config.data.task={task!r} is not allowed: one of {", ".join(TASKS)}')
  if task == 'regression' and kind == 'image_folder':
    raise UserError('config.data.task=\'regression\' is not allowed with image_folder (its '
                    'labels are its class folders): use a csv with an image_column')
  return task


def real_targets(labels: np.ndarray, where: str, row_offset: int = 1,
                 row_word: str = 'row') -> np.ndarray:
  """Regression targets as float32; a value that is not a finite number is an
  error naming its row (row i of `labels` is `row_word` i + row_offset of `where`)."""
  text = np.asarray(labels).astype(str)
  values = np.full(len(text), np.nan)
  for i, t in enumerate(text):
    try:
      values[i] = float(t)
    except ValueError:
      pass
  bad = np.flatnonzero(~np.isfinite(values))
  if len(bad):
    raise UserError(f'{where}, {row_word} {bad[0] + row_offset}: target {str(text[bad[0]])!r} is not '
                    'a finite number (config.data.task=\'regression\')')
  return values.astype(np.float32)


def _check_targets_vary(train_y: np.ndarray, where: str) -> None:
  if np.ptp(train_y) == 0:
    raise UserError(f'{where}: every training target is {float(train_y[0])!r}; a regression '
                    'needs targets that vary')


def _check_two_classes(train_y: np.ndarray, names: tuple[str, ...], where: str) -> None:
  present = np.unique(train_y)
  if len(present) < 2:
    raise UserError(f'{where}: the training rows hold one class only '
                    f'({names[int(present[0])] if len(present) else "none"}); '
                    'a classifier needs two or more')


def _natural(name: str):
  """Numbers in numeric order ('2' < '10'), then strings."""
  try:
    return (0, float(name), '')
  except ValueError:
    return (1, 0.0, name)


def read_image(path: pathlib.Path, shape: tuple) -> np.ndarray:
  """One image as float32 [H, W, C] in [0, 1], resized to `shape` if given."""
  from PIL import Image, UnidentifiedImageError  # pylint: disable=import-outside-toplevel
  try:
    with Image.open(path) as image:
      image.load()
      if shape:
        image = image.convert('L' if shape[2] == 1 else 'RGB').resize(
            (shape[1], shape[0]), Image.Resampling.BILINEAR)
      elif image.mode not in ('L', 'RGB'):
        image = image.convert('L' if image.mode in ('1', 'I', 'F', 'LA') else 'RGB')
      array = np.asarray(image, np.float32) / 255.0
  except FileNotFoundError:
    raise UserError(f'image {path} does not exist') from None
  except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
    raise UserError(f'image {path} cannot be read as an image ({type(e).__name__}: {e})') from None
  return array[..., None] if array.ndim == 2 else array


def _stack_images(paths: list[pathlib.Path], shape: tuple) -> np.ndarray:
  images = [read_image(p, shape) for p in paths]
  first = images[0].shape
  for path, image in zip(paths, images):
    if image.shape != first:
      raise UserError(f'image {path} is {image.shape[1]}x{image.shape[0]} with '
                      f'{image.shape[2]} channel(s) but {paths[0]} is {first[1]}x{first[0]} '
                      f'with {first[2]}: set config.data.image_shape=(H, W, C) to resize them all')
  return np.stack(images)


def _options_shape(options) -> tuple:
  shape = tuple(options.get('image_shape') or ())
  if shape and (len(shape) != 3 or shape[2] not in (1, 3) or min(shape) < 1):
    raise UserError(f'config.data.image_shape={shape!r} is not allowed: (H, W, C) with C 1 or 3, '
                    'or () to keep the images\' own size')
  return shape


def _read_csv(path: pathlib.Path, options, shape: tuple):
  import pandas as pd  # pylint: disable=import-outside-toplevel
  try:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
  except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
    raise UserError(f'{path} cannot be read as CSV ({type(e).__name__}: {e})') from None
  label = options.get('label_column', 'label')
  image_column = options.get('image_column', '')
  columns = list(table.columns)
  for key, needed in [('label_column', label),
                      *([('image_column', image_column)] if image_column else []),
                      *(('feature_columns', c) for c in options.get('feature_columns', ()))]:
    if needed not in columns:
      raise UserError(f'{path}: no column {needed!r} (config.data.{key}); its columns are '
                      + ', '.join(columns))
  if not len(table):
    raise UserError(f'{path} holds no rows')
  features = list(options.get('feature_columns', ())) or [
      c for c in columns if c not in (label, image_column)]
  values = np.empty((len(table), len(features)), np.float32)
  for j, column in enumerate(features):
    converted = pd.to_numeric(table[column].str.strip(), errors='coerce')
    bad = np.flatnonzero(converted.isna().to_numpy())
    if len(bad):
      row = int(bad[0])
      raise UserError(f'{path}, line {row + 2}, column {column!r}: '
                      f'{table[column].iloc[row]!r} is not a number'
                      + ('' if options.get('feature_columns') else
                         '; name the numeric ones in config.data.feature_columns'))
    values[:, j] = converted.to_numpy(np.float32)
  if image_column:
    images = _stack_images([path.parent / p for p in table[image_column]], shape)
    values = np.concatenate([images.reshape(len(images), -1), values], axis=1)
  elif not features:
    raise UserError(f'{path}: no feature column besides the label {label!r}')
  return values, table[label].to_numpy(str)


@register('csv', takes_options=True)
def csv(data_dir=None, options=None):
  options = options or {}
  path, shape = _path(data_dir, 'csv'), _options_shape(options)
  files = ({'train': path / 'train.csv', 'test': path / 'test.csv'} if path.is_dir()
           else {'train': path})
  if not files['train'].exists():
    raise DataNotFoundError(f'dataset csv: {files["train"]} does not exist (a folder needs '
                            'train.csv, and test.csv if the test rows are not to be drawn)')
  files = {split: f for split, f in files.items() if f.exists()}
  task = _task(options, 'csv')
  read = {split: _read_csv(f, options, shape) for split, f in files.items()}
  names = (() if task == 'regression' else
           class_names([labels for _, labels in read.values()], options.get('classes')))
  # Data row r (from 0) is line r + 2 of the file: line 1 is the header.
  parts = {split: (x, real_targets(labels, str(files[split]), 2, 'line')
                   if task == 'regression' else
                   class_indices(labels, names, str(files[split]), 2, 'line'))
           for split, (x, labels) in read.items()}
  if 'test' not in parts:
    parts = _split_off_test(*parts['train'], options.get('test_fraction', 0.2), str(path))
  elif parts['train'][0].shape[1] != parts['test'][0].shape[1]:
    raise UserError(f'{files["test"]} has {parts["test"][0].shape[1]} features but '
                    f'{files["train"]} has {parts["train"][0].shape[1]}')
  if task == 'regression':
    _check_targets_vary(parts['train'][1], str(files['train']))
    return parts, f'CSV {", ".join(map(str, files.values()))}; real targets'
  _check_two_classes(parts['train'][1], names, str(files['train']))
  return parts, f'CSV {", ".join(map(str, files.values()))}; classes {", ".join(names)}'


@register('npz', takes_options=True)
def npz(data_dir=None, options=None):
  options = options or {}
  path = _path(data_dir, 'npz')
  try:
    with np.load(path, allow_pickle=False) as archive:
      arrays = {k: archive[k] for k in archive.files}
  except (OSError, ValueError, EOFError) as e:
    raise UserError(f'{path} cannot be read as .npz ({type(e).__name__}: {e})') from None
  if {'x_train', 'y_train', 'x_test', 'y_test'} <= set(arrays):
    given = {s: (arrays[f'x_{s}'], arrays[f'y_{s}'], f'{path} (x_{s})') for s in ('train', 'test')}
  elif {'x', 'y'} <= set(arrays):
    given = {'all': (arrays['x'], arrays['y'], f'{path} (x)')}
  else:
    raise UserError(f'{path} holds {", ".join(sorted(arrays)) or "no arrays"}; it needs x and y '
                    '(and optionally split), or x_train, y_train, x_test and y_test')
  task = _task(options, 'npz')
  names = (() if task == 'regression' else
           class_names([y for _, y, _ in given.values()], options.get('classes')))
  parts = {}
  for split, (x, y, where) in given.items():
    if len(x) != len(y):
      raise UserError(f'{where}: x has {len(x)} rows but y has {len(y)}')
    if not np.issubdtype(np.asarray(x).dtype, np.number):
      raise UserError(f'{where}: x is of type {np.asarray(x).dtype}, not numbers')
    finite = np.isfinite(np.asarray(x, np.float64)).reshape(len(x), -1).all(axis=1)
    if not finite.all():
      raise UserError(f'{where}, row {int(np.flatnonzero(~finite)[0]) + 1}: x holds NaN or '
                      'infinity')
    parts[split] = (x, real_targets(y, where) if task == 'regression' else
                    class_indices(y, names, where))
  if 'all' in parts:
    x, y = parts.pop('all')
    if 'split' in arrays:
      split = np.asarray(arrays['split']).astype(str)
      if len(split) != len(y) or not set(np.unique(split)) <= {'train', 'test', '0', '1'}:
        raise UserError(f'{path}: split must hold, per row, train/test or 0/1 '
                        f'({len(y)} values); it has {len(split)}: {sorted(set(split))[:5]}')
      test = np.isin(split, ('test', '1'))
      parts = {'train': (x[~test], y[~test]), 'test': (x[test], y[test])}
    else:
      parts = _split_off_test(x, y, options.get('test_fraction', 0.2), str(path))
  if task == 'regression':
    _check_targets_vary(parts['train'][1], str(path))
    return parts, f'npz {path}; real targets'
  _check_two_classes(parts['train'][1], names, str(path))
  return parts, f'npz {path}; classes {", ".join(names)}'


def _class_folders(folder: pathlib.Path) -> dict[str, list[pathlib.Path]]:
  classes = {}
  for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
    images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
      raise UserError(f'{sub} holds no image ({", ".join(IMAGE_SUFFIXES)}); remove the folder '
                      'or add its images')
    classes[sub.name] = images
  if not classes:
    raise UserError(f'{folder} holds no class folder: image_folder wants one subfolder of '
                    'images per class (at the top, or under train/ and test/)')
  return classes


@register('image_folder', takes_options=True)
def image_folder(data_dir=None, options=None):
  options = options or {}
  path, shape = _path(data_dir, 'image_folder'), _options_shape(options)
  _task(options, 'image_folder')
  if not path.is_dir():
    raise UserError(f'dataset image_folder: config.data.dir={str(path)!r} is not a folder')
  layout = ({'train': path / 'train', 'test': path / 'test'} if (path / 'train').is_dir()
            else {'train': path})
  found = {split: _class_folders(folder) for split, folder in layout.items() if folder.is_dir()}
  names = class_names([np.asarray(list(by_class)) for by_class in found.values()],
                      options.get('classes'))
  parts = {}
  for split, by_class in found.items():
    for name in by_class:
      if name not in names:
        raise UserError(f'{layout[split] / name}: class {name!r} is not one of the classes '
                        f'({", ".join(names[:20])}, config.data.classes)')
    paths = [p for name in by_class for p in by_class[name]]
    labels = class_indices(np.asarray([n for n in by_class for _ in by_class[n]]), names,
                           str(layout[split]))
    parts[split] = (paths, labels)
  images = _stack_images([p for paths, _ in parts.values() for p in paths], shape)
  start = 0
  for split, (paths, labels) in parts.items():
    parts[split] = (images[start:start + len(paths)], labels)
    start += len(paths)
  if 'test' not in parts:
    parts = _split_off_test(*parts['train'], options.get('test_fraction', 0.2), str(path))
  _check_two_classes(parts['train'][1], names, str(layout['train']))
  return parts, f'images in {path}; classes {", ".join(names)}'
