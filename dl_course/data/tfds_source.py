"""TFDS datasets read through `tfds.data_source` (random access, no TensorFlow).

The data must already be prepared in ArrayRecord format under `data_dir`; we
never download at run time (this machine may be offline), we fail at once with
a line saying how to prepare it.
"""
from __future__ import annotations

import numpy as np
from absl import logging

from dl_course.errors import DataNotFoundError


def build(name: str, data_dir: str | None):
  import tensorflow_datasets as tfds
  how = (f'prepare it on a machine with internet access: `tfds build {name} '
         f'--file_format=array_record --data_dir=DIR`, copy DIR here and pass '
         f'config.data.dir=DIR')
  verbosity = logging.get_verbosity()
  logging.set_verbosity(logging.ERROR)  # tfds warns about every folder it probes.
  try:
    sources = {split: tfds.data_source(name, split=split, data_dir=data_dir or None,
                                       download=False, try_gcs=False)
               for split in ('train', 'test')}
  except Exception as e:  # tfds raises many types for "not there": all mean the same.
    raise DataNotFoundError(
        f'dataset tfds:{name} not found in data_dir={data_dir or "(tfds default)"} '
        f'({type(e).__name__}); {how}') from None
  finally:
    logging.set_verbosity(verbosity)
  splits = {}
  for split, source in sources.items():
    records = [source[i] for i in range(len(source))]
    x_key = 'image' if 'image' in records[0] else 'features'
    x = np.stack([r[x_key] for r in records])
    if x.dtype == np.uint8:
      x = x / 255.0
    splits[split] = (x, np.asarray([r['label'] for r in records]))
  return splits, f'tfds.data_source({name!r}, data_dir={data_dir!r})'
