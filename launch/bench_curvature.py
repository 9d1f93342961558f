"""Cost of a Hessian-vector product relative to a gradient, per model.

  python -m launch.bench_curvature [--num_examples=1000] [--repeats=20]

Both are jitted functions of the same chunked full-batch loss
(dl_course.curvature), timed side by side in one process after a compiling
warm-up; the last column is HVP time / gradient time (forward-over-reverse
should cost 2-3 gradients; the target is <= 3). A benchmark, not a test.
"""
from __future__ import annotations

import time

import jax
import numpy as np
from absl import flags
from jax.flatten_util import ravel_pytree

from dl_course import data, models
from dl_course.curvature import chunk_dataset, dataset_loss, hvp
from dl_course.implicit.networks import per_example_loss
from experiments import cli

_N = flags.DEFINE_integer('num_examples', 1000, 'Training examples in the full-batch loss.',
                                lower_bound=1)
_CHUNK = flags.DEFINE_integer('chunk_size', 1000, 'Examples per chunk (one chunk by default).',
                                    lower_bound=1)
_REPEATS = flags.DEFINE_integer('repeats', 20, 'Timed calls per function (median reported).',
                                      lower_bound=1)

MODELS = (('mlp 40-200-200-10', 'mnist1d', {'name': 'mlp', 'hidden_sizes': (200, 200)}),
          ('cnn1d (MNIST-1D paper)', 'mnist1d', {'name': 'cnn1d'}),
          ('gru 12 units', 'mnist1d', {'name': 'gru', 'hidden_size': 12}),
          ('lenet on MNIST-5k', 'mnist5k', {'name': 'lenet'}))
# LeNet takes seconds per gradient here with several chunks: XLA:CPU runs
# convolutions inside loops (the chunk scan) very slowly; use one chunk.


def median_seconds(fn, *args) -> float:
  jax.block_until_ready(fn(*args))  # compile
  times = []
  for _ in range(_REPEATS.value):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def main(argv):
  del argv
  print(f'{"model":<24} {"params":>8} {"grad ms":>9} {"hvp ms":>9} {"hvp/grad":>9}')
  for name, dataset, model_config in MODELS:
    train = data.load(dataset, 'train')
    x, y = train.x[:_N.value], train.y[:_N.value]
    model = models.build(model_config, train.info.num_classes)
    params = model.init(jax.random.key(0), x[:1])['params']
    loss = dataset_loss(per_example_loss(model, 'xent', train.info.num_classes),
                        chunk_dataset(x, y, _CHUNK.value))
    v = jax.tree.map(lambda a: jax.random.normal(jax.random.key(1), a.shape, a.dtype), params)
    grad_time = median_seconds(jax.jit(jax.grad(loss)), params)
    hvp_time = median_seconds(jax.jit(lambda p, t: hvp(loss, p, t)), params, v)
    size = ravel_pytree(params)[0].size
    print(f'{name:<24} {size:>8,} {1e3 * grad_time:>9.2f} {1e3 * hvp_time:>9.2f} '
          f'{hvp_time / grad_time:>9.2f}', flush=True)


if __name__ == '__main__':
  cli.run(main)
