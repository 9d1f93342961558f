"""Your own data (csv, npz, image_folder) through the data registry and the
classification CLI, every bad-data case as one line naming the file and the
row, column or image; and experiments.evaluate on another dataset."""
from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

from dl_course import data
from dl_course.errors import UserError
from tests.helpers import classify_command, run
from tests.test_cli import assert_one_line_error

MLP = 'experiments/configs/classify/mlp.py:quick'
LENET = 'experiments/configs/classify/lenet.py:quick'


def _load(name, path, **options):
  options = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items())
  return data.load(name, 'train', str(path), options), data.load(name, 'test', str(path), options)


def _write_csv(path, rows, header='a,b,species'):
  path.write_text(header + '\n' + '\n'.join(rows) + '\n')
  return path


def _table(n=50, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 2))
  return x, [f'{a},{b},{"setosa" if a > 0 else "virginica"}' for a, b in x]


def test_a_csv_file_gives_features_labels_and_a_fixed_test_split(tmp_path):
  x, rows = _table()
  path = _write_csv(tmp_path / 'iris.csv', rows)
  train, test = _load('csv', path, label_column='species', test_fraction=0.2)
  assert train.x.shape == (40, 2) and test.x.shape == (10, 2)
  assert train.info.num_classes == 2 and 'classes setosa, virginica' in train.info.source
  everything = np.concatenate([train.x, test.x])
  expected = x.astype(np.float32).round(5)
  assert sorted(map(tuple, everything.round(5))) == sorted(map(tuple, expected))
  for split in (train, test):  # setosa (class 0) is exactly the rows with a > 0
    np.testing.assert_array_equal(split.y, (split.x[:, 0] <= 0).astype(np.int32))
  again, _ = _load('csv', path, label_column='species', test_fraction=0.2, classes=())
  np.testing.assert_array_equal(again.x, train.x)  # the test rows do not depend on anything


def test_a_csv_folder_with_its_own_test_file_and_chosen_columns(tmp_path):
  _, rows = _table(30)
  _write_csv(tmp_path / 'train.csv', rows, header='a,b,species')
  _write_csv(tmp_path / 'test.csv', rows[:5], header='a,b,species')
  train, test = _load('csv', tmp_path, label_column='species', feature_columns=['b'])
  assert train.x.shape == (30, 1) and test.x.shape == (5, 1)


def test_a_csv_image_column_is_read_resized_and_put_before_the_features(tmp_path):
  for i, shade in enumerate((0, 255, 0, 255)):
    Image.new('L', (6, 4), color=shade).save(tmp_path / f'leaf{i}.png')
  _write_csv(tmp_path / 'leaves.csv', [f'leaf{i}.png,{i},{"oak" if i % 2 else "elm"}'
                                       for i in range(4)], header='image,margin,species')
  train, test = _load('csv', tmp_path / 'leaves.csv', label_column='species',
                      image_column='image', image_shape=[2, 3, 1], test_fraction=0.5)
  assert train.x.shape == (2, 2 * 3 + 1)
  everything = np.concatenate([train.x, test.x])
  for row in everything:  # the image's pixels (all 0 or all 1) then the margin feature
    assert set(row[:6]) == {float(int(row[6]) % 2)}


def test_npz_with_and_without_splits(tmp_path):
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(20, 3)).astype(np.float32), np.arange(20) % 3
  np.savez(tmp_path / 'plain.npz', x=x, y=y)
  train, test = _load('npz', tmp_path / 'plain.npz')
  assert (len(train), len(test), train.info.num_classes) == (16, 4, 3)
  split = np.where(np.arange(20) < 15, 'train', 'test')
  np.savez(tmp_path / 'split.npz', x=x, y=y, split=split)
  train, test = _load('npz', tmp_path / 'split.npz')
  np.testing.assert_array_equal(test.x, x[15:])
  np.savez(tmp_path / 'four.npz', x_train=x[:10], y_train=y[:10], x_test=x[10:], y_test=y[10:])
  train, test = _load('npz', tmp_path / 'four.npz')
  np.testing.assert_array_equal(train.y, y[:10])


def _image_folder(root, sizes=((5, 4), (5, 4)), mode='L'):
  for cls, shade in (('cat', 30), ('dog', 220)):
    (root / cls).mkdir(parents=True)
    for i, size in enumerate(sizes):
      Image.new(mode, size, color=shade if mode == 'L' else (shade, 0, 0)).save(
          root / cls / f'{i}.png')
  return root


def test_an_image_folder_with_and_without_train_and_test(tmp_path):
  _image_folder(tmp_path / 'flat', sizes=[(5, 4)] * 5)
  train, test = _load('image_folder', tmp_path / 'flat')
  assert train.x.shape == (8, 4, 5, 1) and test.x.shape == (2, 4, 5, 1)
  for split in (train, test):  # dog images (class 1) are the bright ones
    np.testing.assert_array_equal(split.y, (split.x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32))
  _image_folder(tmp_path / 'split' / 'train')
  _image_folder(tmp_path / 'split' / 'test', sizes=[(9, 7)], mode='RGB')
  train, test = _load('image_folder', tmp_path / 'split', image_shape=[4, 4, 3])
  assert train.x.shape == (4, 4, 4, 3) and test.x.shape == (2, 4, 4, 3)


def _corrupt(root):
  _image_folder(root)
  (root / 'cat' / 'broken.png').write_bytes(b'\x89PNG not really')
  return root


def _mixed(root):
  return _image_folder(root, sizes=((5, 4), (6, 4)))


def _empty(root):
  _image_folder(root)
  (root / 'bird').mkdir()
  return root


@pytest.mark.parametrize('make,expected', [
    (_corrupt, 'broken.png cannot be read as an image'),
    (_mixed, 'cat/1.png is 6x4 with 1 channel(s) but'),
    (_empty, 'bird holds no image'),
], ids=['corrupt image', 'mixed sizes', 'empty class folder'])
def test_bad_image_folders_are_one_line(tmp_path, make, expected):
  root = make(tmp_path / 'images')
  with pytest.raises(UserError, match=re.escape(expected)) as error:
    _load('image_folder', root)
  assert '\n' not in str(error.value)


@pytest.mark.parametrize('rows,options,expected', [
    (['1,2,x', '3,4,y'], {'label_column': 'kind'}, "no column 'kind' (config.data.label_column)"),
    (['1,2,x', '3,oops,y', '5,6,x'], {}, "line 3, column 'b': 'oops' is not a number"),
    (['1,2,x', '3,4,x', '5,6,x'], {}, 'the training rows hold one class only (x)'),
    (['1,2,x', '3,4,y', '5,6,z'], {'classes': ('x', 'y')},
     "line 4: label 'z' is not one of the classes (x, y)"),
], ids=['missing column', 'not a number', 'one class', 'label outside the classes'])
def test_bad_csv_is_one_line_naming_file_and_row(tmp_path, rows, options, expected):
  path = _write_csv(tmp_path / 'bad.csv', rows, header='a,b,label')
  with pytest.raises(UserError, match=re.escape(expected)) as error:
    _load('csv', path, test_fraction=0.34, **options)
  assert str(tmp_path / 'bad.csv') in str(error.value)


def test_bad_npz_is_one_line(tmp_path):
  np.savez(tmp_path / 'a.npz', features=np.zeros((3, 2)))
  with pytest.raises(UserError, match='a.npz holds features; it needs x and y'):
    _load('npz', tmp_path / 'a.npz')
  x = np.ones((4, 2))
  x[2, 1] = np.nan
  np.savez(tmp_path / 'b.npz', x=x, y=np.array([0, 1, 0, 1]), split=np.array([0, 0, 0, 1]))
  with pytest.raises(UserError, match=r'b.npz \(x\), row 3: x holds NaN'):
    _load('npz', tmp_path / 'b.npz')
  (tmp_path / 'c.npz').write_bytes(b'not a zip')
  with pytest.raises(UserError, match='c.npz cannot be read as .npz'):
    _load('npz', tmp_path / 'c.npz')


@pytest.mark.slow
def test_own_csv_trains_through_the_cli_with_a_validation_split(tmp_path):
  _, rows = _table(200)
  path = _write_csv(tmp_path / 'iris.csv', rows)
  done = run(classify_command(tmp_path / 'run', '--config.data.name=csv',
                              f'--config.data.dir={path}', '--config.data.label_column=species',
                              '--config.data.validation_fraction=0.1',
                              '--config.train.num_steps=200', config=MLP))
  assert done.returncode == 0, done.stderr
  lines = (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()
  last = json.loads(lines[-1])
  assert last['test/accuracy'] > 0.9 and 'val/accuracy' in last
  bad = _write_csv(tmp_path / 'bad.csv', ['1,2,x', '3,?,y'] * 5)
  assert_one_line_error(run(classify_command(tmp_path / 'bad_run', '--config.data.name=csv',
                                             f'--config.data.dir={bad}',
                                             '--config.data.label_column=species', config=MLP)),
                        "column 'b': '?' is not a number")


@pytest.mark.slow
def test_evaluate_scores_a_run_on_another_dataset(tmp_path):
  done = run(classify_command(tmp_path / 'run', '--config.train.num_steps=100',
                              '--config.data.validation_fraction=0', config=LENET))
  assert done.returncode == 0, done.stderr
  trained = [json.loads(line) for line in
             (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()][-1]
  # The same test images written as PNG files, one folder per class: same scores.
  test = data.load('mnist5k', 'test')
  for label in range(10):
    (tmp_path / 'pngs' / 'test' / f'{label}').mkdir(parents=True)
    (tmp_path / 'pngs' / 'train' / f'{label}').mkdir(parents=True)
  for i, (image, label) in enumerate(zip(test.x, test.y)):
    pixels = np.rint(image[..., 0] * 255).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / 'pngs' / 'test' / f'{label}' / f'{i:04d}.png')
    if i < 20 * (label + 1):  # a train split is required; its content is not scored
      Image.fromarray(pixels).save(tmp_path / 'pngs' / 'train' / f'{label}' / f'{i:04d}.png')
  evaluate = [sys.executable, '-m', 'experiments.evaluate', f'--workdir={tmp_path / "run"}']
  own = run([*evaluate, '--data=image_folder', f'--data_dir={tmp_path / "pngs"}'])
  assert own.returncode == 0, own.stderr
  same = run(evaluate)
  assert same.returncode == 0, same.stderr
  scores = json.loads((tmp_path / 'run' / 'eval.json').read_text())
  assert set(scores) == {'image_folder:test', 'mnist5k:test'}
  assert scores['mnist5k:test']['test/accuracy'] == pytest.approx(trained['test/accuracy'])
  assert scores['image_folder:test']['test/accuracy'] == pytest.approx(
      scores['mnist5k:test']['test/accuracy'])
  for key in ('test/nll', 'test/ece', 'test/brier'):
    assert scores['image_folder:test'][key] == pytest.approx(scores['mnist5k:test'][key], rel=1e-4)
  assert_one_line_error(run([*evaluate, '--data=digits']),
                        'dataset digits has examples of shape (8, 8, 1) but the run trained on '
                        '(28, 28, 1)')
  assert_one_line_error(run([sys.executable, '-m', 'experiments.evaluate',
                             f'--workdir={tmp_path}']), 'holds no run (no config.json)')


def test_regression_targets_from_csv_and_npz_and_their_bad_values(tmp_path):
  rng = np.random.default_rng(1)
  x = rng.normal(size=(40, 2))
  rows = [f'{a},{b},{3 * a - b:.6f}' for a, b in x]
  train, test = _load('csv', _write_csv(tmp_path / 'r.csv', rows, header='a,b,price'),
                      task='regression', label_column='price', test_fraction=0.25)
  assert train.y.dtype == np.float32 and train.info.num_classes == 0
  assert (len(train), len(test)) == (30, 10)
  np.testing.assert_allclose(train.y, 3 * train.x[:, 0] - train.x[:, 1], atol=1e-5)
  np.savez(tmp_path / 'r.npz', x=x, y=3 * x[:, 0])
  train, _ = _load('npz', tmp_path / 'r.npz', task='regression')
  np.testing.assert_allclose(train.y, 3 * train.x[:, 0], atol=1e-5)
  cases = [
      ('csv', _write_csv(tmp_path / 'word.csv', ['1,2,3.5', '3,4,cheap', '5,6,1'],
                         header='a,b,price'), "word.csv, line 3: target 'cheap' is not a finite"),
      ('csv', _write_csv(tmp_path / 'flat.csv', ['1,2,7', '3,4,7', '5,6,7'], header='a,b,price'),
       'flat.csv: every training target is 7.0; a regression needs targets that vary'),
  ]
  np.savez(tmp_path / 'nan.npz', x=x[:3], y=np.array([1.0, np.nan, 2.0]))
  cases.append(('npz', tmp_path / 'nan.npz', "nan.npz (x), row 2: target 'nan' is not a finite"))
  for name, path, expected in cases:
    with pytest.raises(UserError, match=re.escape(expected)):
      _load(name, path, task='regression', label_column='price', test_fraction=0.34)
  (tmp_path / 'pics' / 'a').mkdir(parents=True)
  with pytest.raises(UserError, match="task='regression' is not allowed with image_folder"):
    _load('image_folder', tmp_path / 'pics', task='regression')
  with pytest.raises(UserError, match="config.data.task='ranking' is not allowed"):
    _load('csv', tmp_path / 'r.csv', task='ranking', label_column='price')


REGRESSION = 'experiments/configs/classify/mlp_regression.py:quick'


@pytest.mark.slow
def test_own_csv_regression_through_the_cli_with_both_heads(tmp_path):
  """The config's quick command keeps its promise (UCI concrete); on a CSV with
  y = 30 a - 20 b + 100 + noise of s.d. 2, in the target's own units, both heads
  fit it to an RMSE near 2, and the Gaussian head's NLL is near that of the noise."""
  quick = run(classify_command(tmp_path / 'concrete', config=REGRESSION))
  assert quick.returncode == 0 and 'reproduced 1 of 1 claims' in quick.stdout, quick.stderr
  rng = np.random.default_rng(0)
  x = rng.normal(size=(600, 2))
  y = 30 * x[:, 0] - 20 * x[:, 1] + 100 + rng.normal(scale=2.0, size=600)
  path = _write_csv(tmp_path / 'prices.csv', [f'{a},{b},{t}' for (a, b), t in zip(x, y)],
                    header='a,b,price')
  own = ('--config.data.name=csv', f'--config.data.dir={path}',
         '--config.data.label_column=price')
  noise_nll = 0.5 * np.log(2 * np.pi * 4.0) + 0.5
  for loss in ('gaussian_nll', 'mse'):
    done = run(classify_command(tmp_path / loss, *own, f'--config.loss={loss}',
                                '--config.claim.max_test_rmse=3.0', config=REGRESSION))
    assert done.returncode == 0, done.stderr
    last = json.loads((tmp_path / loss / 'metrics.jsonl').read_text().splitlines()[-1])
    assert 1.5 < last['test/rmse'] < 3.0 and 'val/rmse' in last
    assert last['test/rmse'] == pytest.approx(np.sqrt(last['test/mse']))
    assert ('test/nll' in last) == (loss == 'gaussian_nll')
    if loss == 'gaussian_nll':
      assert abs(last['test/nll'] - noise_nll) < 0.3
      evaluated = run([sys.executable, '-m', 'experiments.evaluate', f'--workdir={tmp_path / loss}'])
      assert evaluated.returncode == 0, evaluated.stderr
      scores = json.loads((tmp_path / loss / 'eval.json').read_text())['csv:test']
      assert scores['test/rmse'] == pytest.approx(last['test/rmse'], rel=1e-4)
      assert scores['test/nll'] == pytest.approx(last['test/nll'], rel=1e-4)
  assert_one_line_error(run(classify_command(tmp_path / 'ce', *own, '--config.loss=cross_entropy',
                                             config=REGRESSION)),
                        "config.loss='cross_entropy' is not allowed")
  assert_one_line_error(run(classify_command(tmp_path / 'img', '--config.data.name=mnist5k',
                                             config=REGRESSION)),
                        "config.data.task='regression' is not allowed")
