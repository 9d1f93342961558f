import time

import numpy as np
import pytest

from dl_course import data
from dl_course.data.idx import read_idx, write_idx
from dl_course.errors import DataNotFoundError, UserError


def test_mnist1d_matches_the_published_frozen_dataset_properties():
  train, test = data.load('mnist1d', 'train'), data.load('mnist1d', 'test')
  assert train.x.shape == (4000, 40) and test.x.shape == (1000, 40)
  assert train.info.num_classes == 10 and train.info.input_shape == (40,)
  assert set(np.unique(train.y)) == set(range(10))
  # 500 samples per class before the 80/20 split, so each class has ~400 in train.
  counts = np.bincount(np.concatenate([train.y, test.y]))
  assert (counts == 500).all()
  assert abs(train.x.mean()) < 0.05 and abs(train.x.std() - 1) < 0.05


def test_mnist1d_generation_is_deterministic(tmp_path, monkeypatch):
  from dl_course.data import embedded
  cached = data.load('mnist1d', 'train')
  monkeypatch.setenv('DL_COURSE_CACHE', str(tmp_path))
  fresh, _ = embedded.mnist1d()
  np.testing.assert_array_equal(np.asarray(fresh['train'][0], np.float32), cached.x)
  np.testing.assert_array_equal(fresh['train'][1], cached.y)


@pytest.mark.parametrize('name,shape,n_train,n_test', [
    ('digits', (8, 8, 1), 1437, 360), ('mnist5k', (28, 28, 1), 4000, 1000),
    ('moons', (2,), 1000, 1000), ('blobs', (2,), 1000, 1000)])
def test_embedded_datasets(name, shape, n_train, n_test):
  train, test = data.load(name, 'train'), data.load(name, 'test')
  assert train.x.shape == (n_train, *shape) and test.x.shape == (n_test, *shape)
  assert train.x.dtype == np.float32 and train.y.dtype == np.int32
  assert not train.x.flags.writeable


def test_unknown_dataset_and_split_name_the_allowed_values():
  with pytest.raises(UserError, match="dataset 'nope' is unknown; allowed: .*mnist1d"):
    data.load('nope')
  with pytest.raises(UserError, match="split 'val' is unknown"):
    data.load('mnist1d', 'val')


def test_batches_are_a_pure_function_of_seed_and_step():
  a = data.batch_indices(3, 17, num_examples=1000, batch_size=64)
  b = data.batch_indices(3, 17, num_examples=1000, batch_size=64)
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, data.batch_indices(4, 17, 1000, 64))


def test_each_epoch_visits_every_example_once():
  # 1000 examples, batch 100: steps 0-9 are epoch 0, 10-19 epoch 1.
  epoch0 = data.chunk_indices(0, 0, 10, 1000, 100).ravel()
  epoch1 = data.chunk_indices(0, 10, 10, 1000, 100).ravel()
  assert sorted(epoch0) == list(range(1000)) == sorted(epoch1)
  assert not np.array_equal(epoch0, epoch1)


def test_batches_that_straddle_epochs():
  idx = data.batch_indices(0, 3, num_examples=250, batch_size=80)  # positions 240..319
  perm0 = data.chunk_indices(0, 0, 25, 250, 10).ravel()  # epoch 0 in batches of 10
  np.testing.assert_array_equal(idx[:10], perm0[240:])
  assert len(set(idx[10:])) == 70


@pytest.mark.parametrize('gz', [False, True])
def test_idx_round_trip_and_loading(tmp_path, gz):
  rng = np.random.default_rng(0)
  suffix = '.gz' if gz else ''
  arrays = {'train-images-idx3-ubyte': rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
            'train-labels-idx1-ubyte': rng.integers(0, 10, 30, dtype=np.uint8),
            't10k-images-idx3-ubyte': rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
            't10k-labels-idx1-ubyte': np.arange(12, dtype=np.uint8) % 10}
  for stem, array in arrays.items():
    write_idx(tmp_path / f'{stem}{suffix}', array)
    np.testing.assert_array_equal(read_idx(tmp_path / f'{stem}{suffix}'), array)
  train = data.load('idx', 'train', data_dir=str(tmp_path))
  assert train.x.shape == (30, 28, 28, 1) and train.info.num_classes == 10
  np.testing.assert_allclose(train.x[..., 0], arrays['train-images-idx3-ubyte'] / 255.0, atol=1e-7)


def test_idx_rejects_bad_files_and_missing_folders(tmp_path):
  (tmp_path / 'bad').write_bytes(b'\x01\x02\x03\x04')
  with pytest.raises(UserError, match='not an IDX file'):
    read_idx(tmp_path / 'bad')
  with pytest.raises(DataNotFoundError, match='train-images-idx3-ubyte'):
    data.load('idx', data_dir=str(tmp_path / 'empty'))
  with pytest.raises(DataNotFoundError, match='needs config.data.dir'):
    data.load('idx')


def test_damaged_gz_files_are_one_user_error_naming_the_file(tmp_path):
  write_idx(tmp_path / 'whole.gz', np.zeros((4, 3), np.uint8))
  (tmp_path / 'truncated.gz').write_bytes((tmp_path / 'whole.gz').read_bytes()[:-6])
  (tmp_path / 'not_gzip.gz').write_bytes(b'plain bytes, not gzip')
  for name in ('truncated.gz', 'not_gzip.gz'):
    with pytest.raises(UserError, match=f'{name} cannot be read as a gzipped IDX file'):
      read_idx(tmp_path / name)


def test_idx_with_only_the_test_files_loads_the_test_split(tmp_path):
  write_idx(tmp_path / 't10k-images-idx3-ubyte', np.zeros((5, 28, 28), np.uint8))
  write_idx(tmp_path / 't10k-labels-idx1-ubyte', np.arange(5, dtype=np.uint8))
  data.registry._load_all.cache_clear()
  test = data.load('idx', 'test', data_dir=str(tmp_path))
  assert test.x.shape == (5, 28, 28, 1) and test.info.num_classes == 5
  with pytest.raises(DataNotFoundError, match=r'train-images-idx3-ubyte\[\.gz\] not found'):
    data.load('idx', 'train', data_dir=str(tmp_path))


def test_tfds_data_source_with_mock_data():
  import tensorflow_datasets as tfds
  with tfds.testing.mock_data(num_examples=24):
    data.registry._load_all.cache_clear()
    train = data.load('tfds:mnist', 'train')
  data.registry._load_all.cache_clear()
  assert train.x.shape == (24, 28, 28, 1) and train.x.dtype == np.float32
  assert 0.0 <= train.x.min() and train.x.max() <= 1.0


def test_missing_tfds_dataset_fails_fast_with_instructions(tmp_path):
  start = time.perf_counter()
  with pytest.raises(DataNotFoundError, match='tfds build fashion_mnist'):
    data.load('tfds:fashion_mnist', data_dir=str(tmp_path))
  assert time.perf_counter() - start < 30  # No download attempt, no hang.


def test_hold_out_is_a_fixed_disjoint_share_of_train():
  train = data.load('mnist1d', 'train')
  kept, held = data.hold_out(train, 0.2)
  assert len(held) == 800 and len(kept) + len(held) == len(train)
  _, again_held = data.hold_out(train, 0.2)
  np.testing.assert_array_equal(held.x, again_held.x)
  rows = {row.tobytes() for row in train.x}
  assert {row.tobytes() for row in held.x} <= rows
  assert not {row.tobytes() for row in held.x} & {row.tobytes() for row in kept.x}


def test_idx_reads_only_the_split_it_is_asked_for(tmp_path):
  """Asked for the test split, the reader never opens the training files: here
  they are damaged, and only asking for train reports them."""
  write_idx(tmp_path / 't10k-images-idx3-ubyte', np.zeros((4, 28, 28), np.uint8))
  write_idx(tmp_path / 't10k-labels-idx1-ubyte', np.arange(4, dtype=np.uint8))
  (tmp_path / 'train-images-idx3-ubyte').write_bytes(b'\x01\x02\x03\x04')
  (tmp_path / 'train-labels-idx1-ubyte').write_bytes(b'\x01\x02\x03\x04')
  data.registry._load_all.cache_clear()
  assert len(data.load('idx', 'test', data_dir=str(tmp_path))) == 4
  with pytest.raises(UserError, match='train-images-idx3-ubyte is not an IDX file'):
    data.load('idx', 'train', data_dir=str(tmp_path))


def test_uci_datasets_load_as_real_targets_on_the_first_standard_split():
  from dl_course.data import uci_benchmark
  train, test = data.load('uci:concrete', 'train'), data.load('uci:concrete', 'test')
  first_train, first_test = uci_benchmark.load('concrete').splits[0]
  assert (len(train), len(test)) == (len(first_train), len(first_test))
  assert train.y.dtype == np.float32 and train.info.num_classes == 0
  np.testing.assert_allclose(train.x.mean(0), 0, atol=1e-5)
  np.testing.assert_allclose(train.x.std(0), 1, atol=1e-4)
  with pytest.raises(UserError, match='dataset uci:nope is unknown; allowed: uci:<name> with'):
    data.load('uci:nope')
