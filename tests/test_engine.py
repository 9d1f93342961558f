"""The engine in-process on one device: schedule, feeding, evaluation, NaN guard."""
import json
import types

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from dl_course import data, models
from dl_course.classification import train_and_evaluate
from dl_course.engine.checkpoint import read_checkpoint
from dl_course.engine.feeding import make_chunk_runner, make_evaluator
from dl_course.engine.guard import check_record
from dl_course.engine.loop import Schedule
from dl_course.engine.mesh import make_mesh
from dl_course.engine.state import init_train_state
from dl_course.engine.steps import (classification_loss, classification_per_example,
                                    make_eval_sums, make_train_step)
from dl_course.errors import TrainingDivergedError, UserError
from dl_course.engine.blocks import train_in_blocks
from dl_course.studies import Stopped, from_module
from experiments.configs.mnist1d import mlp as mnist1d_mlp
from tests.helpers import qr_operand_ranks


def tiny_config(**overrides):
  config = mnist1d_mlp.get_config('quick')
  config.progress = False
  config.train.num_steps, config.train.eval_every, config.checkpoint_every = 60, 20, 20
  config.steps_per_dispatch = 10
  for key, value in overrides.items():
    node = config
    *path, last = key.split('.')
    for part in path:
      node = node[part]
    node[last] = value
  return config


def test_schedule_boundaries_form_a_fixed_grid():
  schedule = Schedule(num_steps=95, steps_per_dispatch=20, eval_every=30, checkpoint_every=50)
  points, step = [], 0
  while step < 95:
    step = schedule.next_boundary(step)
    points.append(step)
  assert points == [20, 30, 40, 50, 60, 80, 90, 95]
  assert schedule.is_eval(95) and schedule.is_checkpoint(95) and not schedule.is_eval(40)


def _mlp_setup():
  train = data.load('mnist1d')
  model = models.build({'name': 'mlp', 'hidden_sizes': (32,)}, 10)
  tx = optax.sgd(0.1)
  state = init_train_state(model, tx, jnp.zeros((1, 40)), jax.random.key(0))
  return train, model, tx, state


def test_scan_and_loop_dispatch_give_the_same_updates():
  train, model, tx, state = _mlp_setup()
  step = make_train_step(model.apply, tx, classification_loss)
  kwargs = dict(mesh=make_mesh(), x=train.x, y=train.y, seed=1, batch_size=50)
  copy = lambda s: jax.tree.map(jnp.copy, s)  # noqa: E731  (the runners donate their input)
  scanned, m_scan = make_chunk_runner(step, mode='scan', **kwargs)(copy(state), 0, 7)
  looped, m_loop = make_chunk_runner(step, mode='loop', **kwargs)(copy(state), 0, 7)
  assert m_scan['loss'].shape == (7,) and int(scanned.step) == 7
  np.testing.assert_allclose(m_scan['loss'], m_loop['loss'], rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5),
               scanned.params, looped.params)


def test_evaluator_masks_padding_and_matches_a_direct_computation():
  train, model, tx, state = _mlp_setup()
  x, y = train.x[:333], train.y[:333]  # 333 = 2 full batches of 128 + a padded one.
  evaluate = make_evaluator(make_eval_sums(model.apply, classification_per_example),
                            mesh=make_mesh(), x=x, y=y, batch_size=128)
  got = evaluate(state)
  logits = model.apply({'params': state.params}, x)
  want_loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
  want_acc = (logits.argmax(-1) == y).mean()
  assert got['loss'] == pytest.approx(float(want_loss), rel=1e-5)
  assert got['accuracy'] == pytest.approx(float(want_acc), abs=1e-7)


def test_a_run_writes_its_records(tmp_path):
  result = train_and_evaluate(tiny_config(), tmp_path)
  assert result['step'] == 60 and not result['stopped_early']
  for name in ('config.json', 'manifest.json', 'metrics.jsonl', 'learning_curves.png'):
    assert (tmp_path / name).exists(), name
  manifest = json.loads((tmp_path / 'manifest.json').read_text())
  assert manifest['seed'] == 0 and manifest['devices']['count'] == jax.device_count()
  assert manifest['packages']['jax'] == jax.__version__ and 'sha' in manifest['git']
  records = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [r['step'] for r in records] == [20, 40, 60]
  assert {'train/loss', 'train/accuracy', 'test/loss', 'test/accuracy'} <= set(records[0])
  assert read_checkpoint(tmp_path / 'checkpoints')[0] == 60


def test_a_validation_share_of_train_is_scored_beside_test(tmp_path):
  config = tiny_config()
  config.data.validation_fraction = 0.25
  result = train_and_evaluate(config, tmp_path)
  assert {'val/loss', 'val/accuracy', 'test/loss', 'test/accuracy'} <= set(result)
  plain = train_and_evaluate(tiny_config(), tmp_path.parent / 'plain')
  assert 'val/accuracy' not in plain
  assert result['train/loss'] != plain['train/loss']  # it trained on three quarters of train


def test_load_run_gives_back_the_trained_classifier(tmp_path):
  import dl_course
  config = tiny_config()
  result = train_and_evaluate(config, tmp_path)
  run = dl_course.load_run(tmp_path)
  assert run.step == 60 and int(run.state.step) == 60 and run.metrics[-1]['step'] == 60
  assert run.config.model.name == config.model.name
  test = data.load(config.data.name, 'test')
  logits = run.model.apply({'params': run.state.params}, test.x, train=False)
  accuracy = float(np.mean(np.argmax(logits, -1) == test.y))
  assert accuracy == pytest.approx(result['test/accuracy'], abs=1e-6)


def test_load_run_of_an_empty_or_stateless_workdir_is_one_user_error(tmp_path):
  import dl_course
  with pytest.raises(UserError, match='holds no run'):
    dl_course.load_run(tmp_path)
  (tmp_path / 'config.json').write_text('{"study": "min_norm", "seed": 0}')
  with pytest.raises(UserError, match="study 'min_norm' keeps no trained state"):
    dl_course.load_run(tmp_path)


def test_nan_halts_naming_metric_and_step_and_keeps_the_last_good_checkpoint(tmp_path):
  # SGD at lr 1e4 overflows within a few dozen steps.
  config = tiny_config(**{'optimizer.name': 'sgd', 'optimizer.learning_rate': 1e4,
                          'optimizer.schedule': 'constant', 'model.dropout_rate': 0.0,
                          'checkpoint_every': 1, 'eval_every': 1, 'steps_per_dispatch': 1})
  with pytest.raises(TrainingDivergedError) as info:
    train_and_evaluate(config, tmp_path)
  error = info.value
  assert error.metric.startswith('train/') and 0 < error.step < 60
  assert f'at step {error.step}' in str(error)
  step, state = read_checkpoint(tmp_path / 'checkpoints')
  assert step == error.last_good_step and step <= error.step
  assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(state['params']))


def test_resuming_with_a_different_config_is_refused(tmp_path):
  train_and_evaluate(tiny_config(), tmp_path)
  with pytest.raises(UserError, match='config.optimizer.learning_rate: 0.01 there, 0.1 now'):
    train_and_evaluate(tiny_config(**{'optimizer.learning_rate': 0.1}), tmp_path)


def test_a_finished_run_resumes_to_its_final_record(tmp_path):
  first = train_and_evaluate(tiny_config(), tmp_path)
  again = train_and_evaluate(tiny_config(), tmp_path)
  assert again['test/accuracy'] == first['test/accuracy'] and again['step'] == 60


def test_the_record_guard_names_a_nested_non_finite_number_and_its_step():
  check_record({'step': 7, 'name': 'adam', 'curve': [1.0, 2.0], 'per_seed': [{'loss': 1.0}],
                'steps_to_fit': [None, 500]})
  with pytest.raises(TrainingDivergedError) as error:
    check_record({'step': 7, 'runs': {'sgd': {'losses': [1.0, float('nan')]}}})
  assert (error.value.metric, error.value.step) == ('runs/sgd/losses', 7)
  with pytest.raises(TrainingDivergedError) as error:
    check_record({'per_seed': [{'loss': 1.0}, {'loss': float('inf')}]}, step=30)
  assert (error.value.metric, error.value.step) == ('per_seed[1]/loss', 30)


def test_a_study_module_that_logs_a_nan_stops_before_the_record_is_kept(tmp_path):
  """Every validate/run/plot/claims study inherits the guard from logged_run."""
  module = types.SimpleNamespace(
      validate=lambda config: None, plot=lambda summary, workdir: None,
      claims=lambda config, summary: [],
      run=lambda config, log: (log({'step': 10, 'loss': 0.5}),
                               log({'step': 20, 'loss': float('nan')}), {})[-1])
  study = from_module('fake', 'fake', mnist1d_mlp, module, diverge=('unused=0',))
  with pytest.raises(TrainingDivergedError, match="metric 'loss' is nan at step 20"):
    study.run(ml_collections.ConfigDict({'seed': 0, 'study': 'fake'}), tmp_path)
  assert [json.loads(line)['step'] for line in
          (tmp_path / 'metrics.jsonl').read_text().splitlines()] == [10]


def _staged_study(trace: list):
  """A resumable study of two units, each trained in chunks of plain jax maths
  (train_in_blocks on a quadratic), logging every block and every unit."""
  def run(config, progress):
    rows = []
    for target in (1.0, 3.0):
      def fit(checkpoints, target=target):
        trace.append(f'fit {target}')
        x = np.linspace(0, 1, 32, dtype=np.float32)
        loss = lambda w, xb, yb: jnp.mean((w['w'] * xb - target) ** 2)
        params, losses, _ = train_in_blocks(
            loss, lambda w: w['w'], {'w': jnp.zeros(())}, optax.sgd(0.1), x, x, seed=0,
            num_steps=40, batch_size=8, eval_every=10, checkpoints=checkpoints,
            log=lambda step, value, w: progress.log(
                {'step': step, 'target': target, 'train/loss': value, 'w': w}))
        return {'target': target, 'w': float(params['w']), 'losses': losses.tolist()}
      rows.append(progress.unit(f'target_{target}', fit))
      progress.log({'step': 40, 'target': target, 'final_w': rows[-1]['w']})
    return {'rows': rows}
  return types.SimpleNamespace(validate=lambda config: None, plot=lambda summary, workdir: None,
                               claims=lambda config, summary: [], run=run)


def test_a_staged_study_stopped_after_every_chunk_resumes_to_the_same_bytes(tmp_path):
  config = ml_collections.ConfigDict({'seed': 0, 'study': 'staged'})
  trace = []
  study = from_module('staged', 'fake', mnist1d_mlp, _staged_study(trace), resumes=True,
                      diverge=('unused=0',), resume_check=('unused=0',))
  for name in ('straight', 'stopped'):
    (tmp_path / name).mkdir()
  straight = study.run(config, tmp_path / 'straight')
  assert trace == ['fit 1.0', 'fit 3.0']
  stops = []
  while isinstance(summary := study.run(config, tmp_path / 'stopped', max_chunks=1), Stopped):
    stops.append(summary.where)
    assert len(stops) < 20
  # 4 blocks per unit, one chunk per process; a unit restored at its last block
  # finishes without training.
  assert stops == [f'step {s} of target_{t}' for t in (1.0, 3.0) for s in (10, 20, 30, 40)]
  assert summary == straight
  for name in ('metrics.jsonl', 'summary.json'):
    assert (tmp_path / 'stopped' / name).read_bytes() == (tmp_path / 'straight' / name).read_bytes()
  assert len((tmp_path / 'straight' / 'metrics.jsonl').read_text().splitlines()) == 10
  trace.clear()
  assert study.run(config, tmp_path / 'straight') == straight  # finished: replayed, not refit
  assert trace == []


def test_a_staged_rerun_that_logs_other_records_is_refused_in_one_line(tmp_path):
  config = ml_collections.ConfigDict({'seed': 0, 'study': 'staged'})
  study = from_module('staged', 'fake', mnist1d_mlp, _staged_study([]), resumes=True,
                      diverge=('unused=0',), resume_check=('unused=0',))
  assert isinstance(study.run(config, tmp_path, max_chunks=6), Stopped)
  metrics = tmp_path / 'metrics.jsonl'
  lines = metrics.read_text().splitlines()  # 4 blocks and the end of unit 1, 2 blocks of unit 2
  assert len(lines) == 7 and 'final_w' in lines[4]
  lines[4] = lines[4].replace('"target": 1.0', '"target": 2.0')
  metrics.write_text(''.join(line + '\n' for line in lines))
  with pytest.raises(UserError, match='metrics.jsonl line 5 differs'):
    study.run(config, tmp_path)
  with pytest.raises(UserError, match=r'config.seed: 0 there, 1 now'):
    study.run(ml_collections.ConfigDict({'seed': 1, 'study': 'staged'}), tmp_path)


def test_stacked_inits_run_one_qr_at_a_time_and_equal_each_init_alone():
  """A GRU's recurrent kernel is orthogonal (a QR). init_each stacks runs without
  a batched QR, the kernel that deadlocked jaxlib 0.10 (issue 19), and gives each
  run the bits it gets alone. vmap would batch the QR: the check can fail."""
  from dl_course.engine.grid import init_grid
  from dl_course.engine.state import init_each
  model = models.build({'name': 'gru', 'hidden_size': 6}, 10)
  tx = optax.adam(1e-3)
  sample_x = jnp.zeros((1, 40))
  keys = jax.random.split(jax.random.key(0), 3)
  init = lambda key: init_train_state(model, tx, sample_x, key)
  assert set(qr_operand_ranks(jax.make_jaxpr(lambda k: init_each(init, k))(keys).jaxpr)) == {2}
  assert set(qr_operand_ranks(jax.make_jaxpr(jax.vmap(init))(keys).jaxpr)) == {3}  # the old way
  stacked = init_grid(model, optax.inject_hyperparams(optax.adam)(learning_rate=0.0), sample_x,
                      keys, [1e-3] * 3)
  for r in range(3):
    alone = init_train_state(model, optax.inject_hyperparams(optax.adam)(learning_rate=0.0),
                             sample_x, keys[r])
    np.testing.assert_array_equal(
        jax.flatten_util.ravel_pytree(jax.tree.map(lambda a, r=r: a[r], stacked.params))[0],
        jax.flatten_util.ravel_pytree(alone.params)[0])


def test_regression_heads_report_errors_and_nll_in_the_targets_own_units():
  """Fitting standardised targets, the per-example values equal the NumPy
  formulas on the rescaled predictions (uncertainty.metrics.gaussian_nll)."""
  from dl_course.engine.steps import gaussian_head, make_regression_fns
  from dl_course.uncertainty import metrics
  rng = np.random.default_rng(0)
  outputs, y = rng.normal(size=(16, 2)).astype(np.float32), rng.normal(size=16).astype(np.float32)
  mean_y, scale = 50.0, 7.0
  mean, variance = (np.asarray(a, np.float64) for a in gaussian_head(jnp.asarray(outputs)))
  loss_fn, per_example = make_regression_fns('gaussian_nll', scale)
  values = per_example(jnp.asarray(outputs), {'y': jnp.asarray(y)})
  original_y, original_mean = y * scale + mean_y, mean * scale + mean_y
  assert float(values['nll'].mean()) == pytest.approx(
      metrics.gaussian_nll(original_mean, variance * scale ** 2, original_y), rel=1e-5)
  assert float(values['mse'].mean()) == pytest.approx(
      metrics.rmse(original_mean, original_y) ** 2, rel=1e-5)
  loss, logged = loss_fn(jnp.asarray(outputs), {'y': jnp.asarray(y)})
  assert float(loss) == pytest.approx(metrics.gaussian_nll(mean, variance, y), rel=1e-5)
  assert float(logged['rmse']) == pytest.approx(metrics.rmse(original_mean, original_y), rel=1e-5)
  loss_fn, per_example = make_regression_fns('mse', scale)
  assert float(loss_fn(jnp.asarray(outputs), {'y': jnp.asarray(y)})[0]) == pytest.approx(
      np.mean((outputs[:, 0] - y) ** 2), rel=1e-5)
  assert set(per_example(jnp.asarray(outputs), {'y': jnp.asarray(y)})) == {'mse'}
