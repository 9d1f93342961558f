"""Uncertainty metrics against hand-computed cases; MC dropout, ensembles, UCI."""
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dl_course.data import load
from dl_course.models import MLP
from dl_course.uncertainty import ensembles, metrics, temperature, uci
from dl_course.uncertainty.mc_dropout import mc_dropout_probs
from tests.helpers import run
from tests.test_cli import assert_one_line_error

PROBS = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
LABELS = np.array([0, 0, 1])


def test_accuracy_nll_brier_by_hand():
  assert metrics.accuracy(PROBS, LABELS) == pytest.approx(1 / 3)
  assert metrics.nll(PROBS, LABELS) == pytest.approx(-(np.log(.9) + np.log(.4) + np.log(.3)) / 3)
  assert metrics.brier(PROBS, LABELS) == pytest.approx((0.02 + 0.72 + 0.98) / 3)


def test_ece_equal_width_and_equal_mass_by_hand():
  # Two equal-width bins: every confidence (.9, .6, .7) falls in [.5, 1]; accuracy 1/3.
  assert metrics.ece(PROBS, LABELS, num_bins=2) == pytest.approx(abs(1 / 3 - 2.2 / 3))
  # Three equal-mass bins hold one example each: |1-.9|, |0-.6|, |0-.7|.
  assert metrics.ece(PROBS, LABELS, num_bins=3, scheme='mass') == pytest.approx(1.4 / 3)
  bins = metrics.calibration_bins(PROBS, LABELS, num_bins=2)
  np.testing.assert_allclose(bins['count'], [0, 3])


def test_a_perfectly_calibrated_predictor_has_small_ece():
  rng = np.random.default_rng(0)
  confidence = rng.uniform(0.5, 1.0, 200_000)
  correct = rng.random(200_000) < confidence
  probs = np.stack([confidence, 1 - confidence], 1)
  labels = np.where(correct, 0, 1)
  assert metrics.ece(probs, labels) < 0.005
  assert metrics.ece(probs, labels, scheme='mass') < 0.005


def test_entropy_and_mutual_information():
  assert metrics.entropy(np.full((1, 4), 0.25))[0] == pytest.approx(np.log(4))
  disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # [S=2, N=1, C=2]
  agree = np.array([[[0.5, 0.5]], [[0.5, 0.5]]])
  assert metrics.mutual_information(disagree)[0] == pytest.approx(np.log(2))
  assert metrics.mutual_information(agree)[0] == pytest.approx(0.0, abs=1e-12)


def test_ood_detection_auroc_and_aupr():
  perfect = metrics.ood_detection(np.array([0., 1, 2]), np.array([3., 4]))
  assert perfect == {'auroc': 1.0, 'aupr': 1.0}
  mixed = metrics.ood_detection(np.array([0., 2]), np.array([1., 3]))
  assert mixed['auroc'] == pytest.approx(0.75)  # 3 of the 4 (out, in) pairs ordered
  assert mixed['aupr'] == pytest.approx((1 + 2 / 3) / 2)


def test_regression_metrics_and_mixture():
  assert metrics.gaussian_nll([0.0], [1.0], [0.0]) == pytest.approx(0.5 * np.log(2 * np.pi))
  assert metrics.rmse([1.0, 3.0], np.array([0.0, 0.0])) == pytest.approx(np.sqrt(5))
  mean, variance = ensembles.mixture_moments([[0.0], [2.0]], [[1.0], [1.0]])
  assert mean[0] == pytest.approx(1.0) and variance[0] == pytest.approx(2.0)


def test_temperature_scaling_recovers_the_true_temperature():
  rng = np.random.default_rng(0)
  logits = rng.standard_normal((20_000, 5)) * 3
  probs = np.exp(logits / 2.0)
  probs /= probs.sum(1, keepdims=True)
  labels = np.array([rng.choice(5, p=p) for p in probs])
  assert temperature.fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.05)
  np.testing.assert_allclose(temperature.apply_temperature(logits[:3], 2.0), probs[:3])


@pytest.fixture(scope='module')
def dropout_model():
  x = load('moons', 'train').x[:64]
  model = MLP(num_classes=2, hidden_sizes=(32,), dropout_rate=0.5)
  return model, model.init(jax.random.key(0), x[:1])['params'], x


def test_mc_dropout_is_a_pure_function_of_the_key(dropout_model):
  model, params, x = dropout_model
  first = mc_dropout_probs(model.apply, params, x, jax.random.key(1), 8)
  again = mc_dropout_probs(model.apply, params, x, jax.random.key(1), 8)
  other = mc_dropout_probs(model.apply, params, x, jax.random.key(2), 8)
  fewer = mc_dropout_probs(model.apply, params, x, jax.random.key(1), 4)
  assert first.shape == (8, 64, 2)
  np.testing.assert_array_equal(first, again)
  np.testing.assert_array_equal(first[:4], fewer)  # sample t does not depend on T
  assert not np.allclose(first, other)
  assert np.std(np.asarray(first), axis=0).mean() > 1e-3  # the masks differ


def test_ensemble_members_differ_and_match_members_trained_alone():
  train = load('moons', 'train')
  x, y = train.x[:256], train.y[:256]
  model = MLP(num_classes=2, hidden_sizes=(16,))
  keys = ensembles.member_keys(0, 3)
  kwargs = dict(learning_rate=1e-2, num_steps=60, batch_size=32, seed=5, steps_per_dispatch=25)
  together = ensembles.train_members(model, x, y, keys, **kwargs)
  first = jax.tree.map(lambda a: a[0], together.params)
  second = jax.tree.map(lambda a: a[1], together.params)
  assert not np.allclose(first['Dense_0']['kernel'], second['Dense_0']['kernel'])
  for m in range(3):
    alone = ensembles.train_members(model, x, y, keys[m:m + 1], **kwargs)
    jax.tree.map(lambda a, b, m=m: np.testing.assert_allclose(a[m], b[0], rtol=1e-5, atol=1e-6),
                 together.params, alone.params)
  probs = ensembles.member_probs(model, together.params, x)
  assert probs.shape == (3, 256, 2)
  assert metrics.accuracy(np.asarray(probs).mean(0), y) > 0.85


def test_uci_inner_split_cuts_each_training_split_80_20_reproducibly():
  from dl_course.data import uci_benchmark
  train, test = uci.stacked_splits(uci_benchmark.load('boston').splits, 3)
  assert train.shape == (3, 455) and test.shape == (3, 51)
  fit, validation = uci.inner_split(train, seed=0)
  assert fit.shape == (3, 364) and validation.shape == (3, 91)
  for s in range(3):
    assert np.array_equal(np.sort(np.concatenate([fit[s], validation[s]])), np.sort(train[s]))
    assert len(np.intersect1d(validation[s], test[s])) == 0
  np.testing.assert_array_equal(fit, uci.inner_split(train, seed=0)[0])
  assert not np.array_equal(fit, uci.inner_split(train, seed=1)[0])


def test_uci_training_snapshots_are_the_shorter_runs():
  """Ensembles choose their epochs from snapshots of one run: the snapshot at step
  k must be exactly the run of k steps (same batches, keys and Adam state), also
  across the compiled segments a long run is cut into."""
  rng = np.random.default_rng(0)
  data = {'x': jnp.asarray(rng.normal(size=(2, 40, 3)), jnp.float32),  # 2 splits
          'y': jnp.asarray(rng.normal(size=(2, 40)), jnp.float32)}
  hyper = {'p': jnp.asarray([[0.1, 0.3]] * 2, jnp.float32),  # 2 runs on each
           'weight_decay': jnp.full((2, 2), 1e-4, jnp.float32)}
  params = jax.vmap(jax.vmap(lambda k: uci.init_mlp(k, 3, 8, 1)))(
      jax.random.split(jax.random.key(0), 4).reshape(2, 2))
  kwargs = dict(batch_size=8, learning_rate=1e-2, seed=3, uniforms=uci.dropout_uniforms)
  early, late = uci.train_runs(uci.dropout_loss, params, data, hyper, num_steps=25,
                               snapshots=(10,), **kwargs)
  alone = uci.train_runs(uci.dropout_loss, params, data, hyper, num_steps=10, **kwargs)
  jax.tree.map(np.testing.assert_array_equal, early, alone)
  original, uci.SEGMENT_STEPS = uci.SEGMENT_STEPS, 7
  try:
    segmented = uci.train_runs(uci.dropout_loss, params, data, hyper, num_steps=25, **kwargs)
  finally:
    uci.SEGMENT_STEPS = original
  jax.tree.map(np.testing.assert_array_equal, late, segmented)


@pytest.mark.slow
def test_uci_ensembles_take_each_splits_best_recipe_on_validation_rows():
  """Constant-rate snapshots and a cosine run compete on each split's validation
  rows; the test figures are those of the chosen recipe, trained on the whole
  training split."""
  from dl_course.data import uci_benchmark
  data = uci_benchmark.load('yacht')
  train, test = uci.stacked_splits(data.splits, 2)
  common = dict(members=2, hidden=8, batch_size=32, learning_rate=1e-2,
                adversarial_epsilon=0.01, seed=0)
  recipes = [(2, False), (6, False), (6, True)]
  result = uci.deep_ensembles(data.x, data.y, train, test, epochs_grid=(6, 2), cosine_epochs=(6,),
                              **common)
  fit, validation = uci.inner_split(train, 0)
  chosen = uci._fit_recipes(data.x, data.y, fit, validation, recipes, range(3), common)
  best = np.argmax([chosen[k]['ll'] for k in range(3)], axis=0)
  assert result['chosen_epochs'] == [recipes[k][0] for k in best]
  assert result['chosen_cosine'] == [recipes[k][1] for k in best]
  final = uci._fit_recipes(data.x, data.y, train, test, recipes, range(3), common)
  for split, k in enumerate(best):
    assert result['ll'][split] == final[k]['ll'][split]
  assert len({float(chosen[k]['ll'][0]) for k in range(3)}) == 3  # three different runs


def test_dropout_log_likelihood_with_one_sample_is_the_gaussian_density():
  y, prediction, tau = np.array([1.0, 2.0]), np.array([[0.5, 2.5]]), 4.0
  expected = np.mean(-0.5 * np.log(2 * np.pi / tau) - 0.5 * tau * (y - prediction[0]) ** 2)
  assert uci.dropout_log_likelihood(prediction, y, tau) == pytest.approx(expected)
  # Two identical samples give the same value: the mean over samples is in probability space.
  assert uci.dropout_log_likelihood(np.repeat(prediction, 2, 0), y, tau) == pytest.approx(expected)


@pytest.mark.parametrize('override,expected', [
    ("--config.datasets=('housing',)",
     "config.datasets=('housing',) is not allowed: names from: boston, concrete"),
    ('--config.ensemble_epochs=(40,0)', 'config.ensemble_epochs=(40, 0) is not allowed'),
    ('--config.ensemble_cosine_epochs=(-4,)',
     'config.ensemble_cosine_epochs=(-4,) is not allowed: a non-empty list of integers >= 1'),
    ('--config.num_splits=1', 'config.num_splits=1 is not allowed: 0 (every published split)'),
    ("--config.methods=('pbp',)",
     "config.methods=('pbp',) is not allowed: one or both of mc_dropout, deep_ensembles"),
    ('--config.claim.min_datasets=5',
     'config.claim.min_datasets=5 is not allowed: at most the 4 of config.datasets'),
], ids=['unknown dataset', 'zero epochs', 'negative cosine epochs', 'one split', 'unknown method', 'more datasets claimed than run'])
def test_uci_bad_input_is_one_line(tmp_path, override, expected):
  done = run([sys.executable, '-m', 'experiments.main',
              '--config=experiments/configs/uncertainty/uci.py:quick', f'--workdir={tmp_path}',
              override])
  assert_one_line_error(done, expected)


def test_ood_scores_and_report_of_member_predictions():
  members = np.array([[[0.9, 0.1], [0.5, 0.5]],
                      [[0.9, 0.1], [0.1, 0.9]]])  # [S=2, N=2, C=2]: the members disagree on x_1
  scores = metrics.ood_scores(members)
  assert scores['max_prob'][1] > scores['max_prob'][0]  # lower confidence scores higher
  assert scores['entropy'][1] > scores['entropy'][0]
  assert scores['mutual_information'][0] == pytest.approx(0.0, abs=1e-12)
  assert scores['mutual_information'][1] > 0.1
  report = metrics.classification_report(members, np.array([0, 1]), num_bins=2)
  assert report['accuracy'] == 1.0
  assert report['nll'] == pytest.approx(-(np.log(0.9) + np.log(0.7)) / 2)
  assert set(report) == {'accuracy', 'nll', 'brier', 'ece', 'ece_equal_mass'}


def sgd_step_update(adversarial_epsilon, x, y):
  """The parameter change of one SGD step (rate 1) of a logistic model."""
  import optax
  from dl_course.engine.state import init_train_state
  from dl_course.engine.steps import classification_loss, make_train_step
  model = MLP(num_classes=2, hidden_sizes=())
  tx = optax.sgd(1.0)
  state = init_train_state(model, tx, x[:1], jax.random.key(0))
  step = make_train_step(model.apply, tx, classification_loss, adversarial_epsilon)
  new_state, _ = step(state, {'x': x, 'y': y})
  return state.params, jax.tree.map(lambda a, b: b - a, state.params, new_state.params)


def test_adversarial_training_adds_the_loss_at_the_fast_gradient_sign_input():
  import optax
  train = load('moons', 'train')
  x, y = train.x[:64].astype(np.float32), train.y[:64]
  params, clean = sgd_step_update(None, x, y)
  _, doubled = sgd_step_update(0.0, x, y)  # epsilon 0: the same loss twice
  jax.tree.map(lambda a, b: np.testing.assert_allclose(2 * a, b, rtol=1e-5), clean, doubled)

  epsilon = np.array([0.05, 0.2], np.float32)  # per input feature
  model = MLP(num_classes=2, hidden_sizes=())

  def loss(p, inputs):
    logits = model.apply({'params': p}, inputs)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
  perturbed = x + epsilon * np.sign(jax.grad(loss, argnums=1)(params, x))
  assert loss(params, perturbed) > loss(params, x)  # the sign step raises the loss
  by_hand = jax.tree.map(lambda a, b: -(a + b), jax.grad(loss)(params, x),
                         jax.grad(loss)(params, perturbed))
  _, adversarial = sgd_step_update(epsilon, x, y)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7),
               by_hand, adversarial)


def test_rotation_shift_turns_images_and_noise_shift_is_seeded():
  from dl_course.errors import ConfigError
  from dl_course.uncertainty.shift_study import shift_inputs
  images = np.random.default_rng(0).random((3, 6, 6, 1)).astype(np.float32)
  assert shift_inputs(images, 'rotation', 0, 0) is images
  np.testing.assert_allclose(shift_inputs(images, 'rotation', 90, 0),
                             np.rot90(images, 1, axes=(1, 2)), atol=1e-5)
  np.testing.assert_allclose(shift_inputs(images, 'rotation', 180, 0),
                             images[:, ::-1, ::-1], atol=1e-5)
  signals = np.random.default_rng(1).standard_normal((500, 40)).astype(np.float32)
  noisy = shift_inputs(signals, 'noise', 0.5, 3)
  np.testing.assert_array_equal(noisy, shift_inputs(signals, 'noise', 0.5, 3))
  assert not np.array_equal(noisy, shift_inputs(signals, 'noise', 0.5, 4))
  assert np.std(noisy - signals) == pytest.approx(0.5 * signals.std(), rel=0.02)
  with pytest.raises(ConfigError, match='rotation needs'):
    shift_inputs(signals, 'rotation', 30, 0)


def test_validation_split_is_disjoint_and_classifiers_predict_every_method():
  from dl_course.uncertainty import classifiers
  from dl_course.uncertainty.shift_study import split_validation
  from experiments.configs.uncertainty.shift import get_config
  train = load('moons', 'train')
  (x, y), (x_val, y_val) = split_validation(train.x, train.y, 100, seed=0)
  assert len(x_val) == 100 and len(x) + 100 == len(train.x)
  assert len(np.unique(np.concatenate([x, x_val]), axis=0)) == len(train.x)
  config = get_config('quick')
  config.update(hidden_sizes=(16,), num_steps=50, ensemble_size=3, mc_samples=4)
  trained = classifiers.train_classifiers(config, x, y, 2, (x_val, y_val))
  predictions = trained.predict(x_val)
  assert list(predictions) == list(classifiers.METHODS)
  assert {k: v.shape for k, v in predictions.items()} == {
      'softmax': (1, 100, 2), 'temperature': (1, 100, 2), 'mc_dropout': (4, 100, 2),
      'ensemble': (3, 100, 2)}
  np.testing.assert_allclose(predictions['softmax'][0], predictions['ensemble'][0])
  assert trained.temperature > 0
  untempered = classifiers.train_classifiers(config, x, y, 2).predict(x_val)
  assert 'temperature' not in untempered


@pytest.mark.parametrize('override,expected', [
    ('--config.shift=blur', "config.shift='blur' is not allowed: one of noise, rotation"),
    ('--config.intensities=(30,60)', 'config.intensities=(30, 60) is not allowed: a list '
                                     'starting at 0'),
    ('--config.validation_size=4000', 'config.validation_size=4000 is not allowed: fewer than'),
    ('--config.data.name=mnist1d', "config.shift='rotation' is not allowed: noise for inputs"),
], ids=['unknown shift', 'no clean intensity', 'validation too big', 'rotating 1-D data'])
def test_shift_bad_input_is_one_line(tmp_path, override, expected):
  done = run([sys.executable, '-m', 'experiments.main',
              '--config=experiments/configs/uncertainty/shift.py:quick', f'--workdir={tmp_path}',
              override])
  assert_one_line_error(done, expected)


@pytest.mark.parametrize('override,expected', [
    ('--config.far_ood_dataset=digits', "config.far_ood_dataset='digits' is not allowed: a "
                                        'dataset of inputs shaped (28, 28, 1)'),
    ('--config.far_ood_dataset=tfds:fashion_mnist', 'dataset tfds:fashion_mnist not found'),
], ids=['wrong shape', 'tfds data not prepared'])
def test_far_ood_dataset_errors_are_one_line_and_come_before_training(tmp_path, override,
                                                                      expected):
  done = run([sys.executable, '-m', 'experiments.main',
              '--config=experiments/configs/uncertainty/ood.py:quick', f'--workdir={tmp_path}',
              f'--config.data.dir={tmp_path}', override], timeout=60)
  assert_one_line_error(done, expected)


def test_load_run_gives_back_the_ood_ensemble_and_dropout_network(tmp_path):
  """The stage checkpoints of the OOD study: member 0 of the ensemble, applied to
  the held-in test digits, gives the softmax accuracy and NLL the run logged."""
  import dl_course
  from dl_course.uncertainty import ood_study
  from experiments.registry import STUDIES
  study = STUDIES['ood_held_out_classes']
  config = study.get_config('quick')
  config.train.num_steps, config.ensemble_size = 200, 2
  study.run(config, tmp_path)
  loaded = dl_course.load_run(tmp_path)
  assert sorted(loaded.stages) == ['ensemble', 'mc_dropout']
  ensemble, dropout = loaded.stages['ensemble'], loaded.stages['mc_dropout']
  assert ensemble.step == dropout.step == 200
  assert ensemble.model.dropout_rate == 0 and dropout.model.dropout_rate == config.dropout_rate
  test = load(config.data.name, 'test')
  x_in, y_in, _ = ood_study.split_by_class(test.x, test.y, config.in_classes)
  member_0 = jax.tree.map(lambda p: p[0], ensemble.params)
  probs = jax.nn.softmax(ensemble.model.apply({'params': member_0}, x_in))[None]
  report = metrics.classification_report(np.asarray(probs, np.float64), y_in)
  logged = next(r for r in loaded.metrics if r.get('method') == 'softmax')
  assert report['accuracy'] == pytest.approx(logged['accuracy'], abs=1e-6)
  assert report['nll'] == pytest.approx(logged['nll'], rel=1e-5)


def test_uci_runs_of_a_split_share_dropout_uniforms_and_each_is_plain_dropout():
  """Common random numbers: one run trained beside others of its split equals the
  same run trained alone (its masks do not depend on its neighbours), and a rate
  keeps each entry with probability 1 - p."""
  rng = np.random.default_rng(1)
  data = {'x': jnp.asarray(rng.normal(size=(1, 32, 4)), jnp.float32),
          'y': jnp.asarray(rng.normal(size=(1, 32)), jnp.float32)}
  params = jax.vmap(jax.vmap(lambda k: uci.init_mlp(k, 4, 6, 1)))(
      jax.random.split(jax.random.key(2), 3).reshape(1, 3))
  hyper = {'p': jnp.asarray([[0.05, 0.2, 0.5]], jnp.float32),
           'weight_decay': jnp.full((1, 3), 1e-4, jnp.float32)}
  kwargs = dict(num_steps=12, batch_size=8, learning_rate=1e-2, seed=4,
                uniforms=uci.dropout_uniforms)
  together = uci.train_runs(uci.dropout_loss, params, data, hyper, **kwargs)
  middle = lambda tree: jax.tree.map(lambda a: a[:, 1:2], tree)
  alone = uci.train_runs(uci.dropout_loss, middle(params), data, middle(hyper), **kwargs)
  # Equal up to float rounding: XLA batches the three runs' matmuls differently.
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
               middle(together), alone)
  uniform, _ = uci.dropout_uniforms(jax.random.key(0), 20_000, 5, 1)
  kept = np.asarray(uci.dropout(jnp.ones_like(uniform), 0.2, uniform) != 0).mean()
  assert kept == pytest.approx(0.8, abs=0.01)
