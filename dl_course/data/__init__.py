"""Datasets: `load(name, split)` -> numpy arrays + metadata; step-indexed batching."""
from dl_course.data import embedded, idx, own  # noqa: F401  (register the builders)
from dl_course.data.registry import (DatasetInfo, Split, from_config, hold_out, info, load, names,
                                    options_of)
from dl_course.data.sampler import batch_indices, chunk_indices

__all__ = ['DatasetInfo', 'Split', 'batch_indices', 'chunk_indices', 'from_config', 'hold_out',
           'info', 'load', 'names', 'options_of']
