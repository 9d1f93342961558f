"""Training throughput (examples/s) per model family: 'scan' vs 'loop' dispatch.

  python -m launch.bench_throughput [--seconds=3] [--batch_size=100] [--steps_per_dispatch=100]

Both modes run side by side in one process on MNIST-1D (and LeNet on MNIST-5k
images), after a warm-up that compiles; the table's last column is
scan / loop, so > 1 means the scan is faster. This is a benchmark, not a
test: numbers depend on the machine and its load.
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import optax
from absl import flags

from dl_course import data, models
from dl_course.engine.feeding import make_chunk_runner
from dl_course.engine.mesh import make_mesh, replicated
from dl_course.engine.state import init_train_state
from dl_course.engine.steps import classification_loss, make_train_step
from experiments import cli

_SECONDS = flags.DEFINE_float('seconds', 3.0, 'Timed seconds per model and mode (after warm-up).',
                               lower_bound=0.1)
_BATCH = flags.DEFINE_integer('batch_size', 100, 'Global batch size.', lower_bound=1)
_K = flags.DEFINE_integer('steps_per_dispatch', 100, 'Steps per chunk.', lower_bound=1)

FAMILIES = (('logreg', 'mnist1d', {'name': 'logreg'}),
            ('mlp', 'mnist1d', {'name': 'mlp', 'hidden_sizes': (100, 100)}),
            ('cnn1d', 'mnist1d', {'name': 'cnn1d'}),
            ('gru', 'mnist1d', {'name': 'gru', 'hidden_size': 12}),
            ('lenet', 'mnist5k', {'name': 'lenet'}))


def examples_per_second(model_config, dataset, mode, seconds, batch_size, k) -> float:
  train = data.load(dataset)
  model = models.build(model_config, train.info.num_classes)
  tx = optax.adam(1e-3)
  mesh = make_mesh()
  # Placed on the mesh as the trainer does, so the warm-up compiles what is timed.
  state = jax.jit(lambda key: init_train_state(model, tx, jnp.zeros((1, *train.info.input_shape)),
                                               key), out_shardings=replicated(mesh))(jax.random.key(0))
  run_chunk = make_chunk_runner(make_train_step(model.apply, tx, classification_loss), mode=mode,
                                mesh=mesh, x=train.x, y=train.y, seed=0, batch_size=batch_size)
  state, metrics = run_chunk(state, 0, k)  # Compiles.
  jax.block_until_ready(metrics)
  start, done = time.perf_counter(), 0
  while time.perf_counter() - start < seconds:
    state, metrics = run_chunk(state, k + done, k)
    jax.block_until_ready(metrics)
    done += k
  return done * batch_size / (time.perf_counter() - start)


def main(argv):
  del argv
  print(f'jax {jax.__version__}, {jax.device_count()} x {jax.devices()[0].device_kind}, '
        f'batch {_BATCH.value}, {_K.value} steps per dispatch')
  print(f'{"model":<8} {"data":<8} {"loop ex/s":>11} {"scan ex/s":>11} {"scan/loop":>10}')
  for name, dataset, config in FAMILIES:
    rates = {mode: examples_per_second(config, dataset, mode, _SECONDS.value, _BATCH.value, _K.value)
             for mode in ('loop', 'scan')}
    print(f'{name:<8} {dataset:<8} {rates["loop"]:>11,.0f} {rates["scan"]:>11,.0f} '
          f'{rates["scan"] / rates["loop"]:>10.2f}', flush=True)


if __name__ == '__main__':
  cli.run(main)
