"""Backprop by hand and optimizers by hand, held to finite differences, jax.grad and Optax."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dl_course.fundamentals import backprop, optimizers

PAIRS = [(a, l) for a in backprop.ACTIVATIONS for l in backprop.LOSSES]


def small_problem(loss: str, seed: int = 0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((6, 4))
  labels = rng.integers(0, 3, 6)
  outputs = 1 if loss == 'logistic' else 3
  y = {'logistic': (labels % 2).astype(np.float64), 'mse': rng.standard_normal((6, 3)),
       'softmax_cross_entropy': labels}[loss]
  return backprop.init_mlp(rng, [4, 5, 3, outputs]), x, y


@pytest.mark.parametrize('activation,loss', PAIRS)
def test_hand_written_gradient_matches_finite_differences_and_jax_grad(activation, loss):
  params, x, y = small_problem(loss)
  value, hand = backprop.loss_and_grad(params, x, y, activation, loss)
  numeric = backprop.finite_difference_grad(params, x, y, activation, loss)
  assert backprop.relative_error(hand, numeric) <= 1e-6
  with jax.enable_x64(True):
    auto_value, auto = jax.value_and_grad(backprop.jax_loss)(
        jax.tree.map(jnp.asarray, params), jnp.asarray(x), jnp.asarray(y), activation, loss)
    auto = jax.tree.map(np.asarray, auto)
  assert abs(value - float(auto_value)) <= 1e-12
  assert backprop.relative_error(hand, auto) <= 1e-10


def test_a_wrong_backward_pass_is_caught():
  """The check has teeth: dropping the activation's derivative breaks it."""
  params, x, y = small_problem('softmax_cross_entropy')
  output, cache = backprop.forward(params, x, 'tanh')
  _, grad_output = backprop.softmax_cross_entropy(output, y)
  saved = backprop.ACTIVATIONS['tanh']
  backprop.ACTIVATIONS['tanh'] = (saved[0], lambda z: np.ones_like(z))
  try:
    wrong = backprop.backward(params, cache, grad_output, 'tanh')
  finally:
    backprop.ACTIVATIONS['tanh'] = saved
  numeric = backprop.finite_difference_grad(params, x, y, 'tanh', 'softmax_cross_entropy')
  assert backprop.relative_error(wrong, numeric) > 1e-2


def test_losses_match_their_definitions():
  logits = np.array([[2.0, 0.0, -1.0]])
  loss, grad = backprop.softmax_cross_entropy(logits, np.array([0]))
  p = np.exp(logits) / np.exp(logits).sum()
  assert np.isclose(loss, -np.log(p[0, 0]))
  assert np.allclose(grad, p - np.array([[1, 0, 0]]))
  loss, _ = backprop.logistic(np.array([[0.0]]), np.array([1.0]))
  assert np.isclose(loss, np.log(2.0))


def random_tree(key):
  k1, k2, k3 = jax.random.split(key, 3)
  return {'w': jax.random.normal(k1, (6, 4)), 'b': jax.random.normal(k2, (4,)),
          'inner': {'v': jax.random.normal(k3, (3,))}}


@pytest.mark.parametrize('name', optimizers.OPTIMIZERS)
def test_hand_written_optimizer_matches_optax_for_100_steps(name):
  ours, reference = optimizers.OPTIMIZERS[name]
  key = jax.random.key(3)
  params0 = random_tree(key)
  results = []
  for tx in (ours(3e-2), reference(3e-2)):
    params, state = params0, tx.init(params0)
    for step in range(100):
      grads = random_tree(jax.random.fold_in(key, step + 1))
      updates, state = tx.update(grads, state, params)
      params = optax.apply_updates(params, updates)
    results.append(params)
  for a, b in zip(jax.tree.leaves(results[0]), jax.tree.leaves(results[1])):
    assert float(jnp.max(jnp.abs(a - b))) <= 1e-6 * max(1.0, float(jnp.max(jnp.abs(b))))
  moved = max(float(jnp.max(jnp.abs(a - b))) for a, b in
              zip(jax.tree.leaves(results[0]), jax.tree.leaves(params0)))
  assert moved > 1e-2, 'the comparison must be between runs that moved'


def test_momentum_and_nesterov_differ_and_adamw_needs_params():
  grads = {'w': jnp.ones(2)}
  heavy, look_ahead = optimizers.momentum(0.1), optimizers.nesterov(0.1)
  u1, s1 = heavy.update(grads, heavy.init(grads))
  u2, _ = look_ahead.update(grads, look_ahead.init(grads))
  assert np.allclose(u1['w'], -0.1) and np.allclose(u2['w'], -0.19)
  with pytest.raises(ValueError, match='parameters'):
    tx = optimizers.adamw(0.1)
    tx.update(grads, tx.init(grads))


# --- recurrent cells -------------------------------------------------------------------

from dl_course.fundamentals import recurrent  # noqa: E402


@pytest.mark.parametrize('kind', recurrent.CELLS)
def test_hand_written_cell_unrolled_equals_flax_rnn(kind):
  import flax.linen as nn
  key = jax.random.key(0)
  params = recurrent.init_cell(kind, key, 3, 5)
  xs = jax.random.normal(jax.random.fold_in(key, 1), (4, 9, 3))
  carry = jax.tree.map(lambda a: a + 0.2, recurrent.zero_carry(kind, 4, 5))
  ours_carry, ours = recurrent.unroll(kind, params, carry, xs)
  rnn = nn.RNN(recurrent.flax_cell(kind, 5), return_carry=True)
  theirs_carry, theirs = rnn.apply({'params': {'cell': params}}, xs, initial_carry=carry)
  np.testing.assert_allclose(ours, theirs, atol=1e-6)
  for a, b in zip(jax.tree.leaves(ours_carry), jax.tree.leaves(theirs_carry)):
    np.testing.assert_allclose(a, b, atol=1e-6)
  _, backwards = recurrent.unroll(kind, params, carry, xs, reverse=True)
  _, flipped = recurrent.unroll(kind, params, carry, xs[:, ::-1])
  np.testing.assert_allclose(backwards, flipped[:, ::-1], atol=1e-6)


def test_hidden_state_gradients_match_a_direct_jacobian():
  """For the vanilla RNN, ∂L/∂h_t = ∂L/∂h_T · Π ∂h_{s}/∂h_{s-1}: check against jax.jacobian."""
  key = jax.random.key(1)
  params = recurrent.init_cell('rnn', key, 1, 4)
  xs = jax.random.normal(key, (1, 6, 1))
  w = jnp.arange(1.0, 5.0)
  norms = recurrent.hidden_state_gradients('rnn', params, xs, lambda h: jnp.mean(h @ w), 4)

  def last_from(t, h):
    for s in range(t + 1, 6):
      h, _ = recurrent.rnn_cell(params, h, xs[:, s])
    return jnp.mean(h @ w)

  h = jnp.zeros((1, 4))
  states = []
  for s in range(6):
    h, _ = recurrent.rnn_cell(params, h, xs[:, s])
    states.append(h)
  expected = [float(jnp.linalg.norm(jax.grad(lambda h, t=t: last_from(t, h))(states[t])))
              for t in range(6)]
  np.testing.assert_allclose(norms, expected, rtol=1e-5)


def test_gate_bias_goes_on_the_keep_gate():
  key = jax.random.key(2)
  lstm = recurrent.with_gate_bias('lstm', recurrent.init_cell('lstm', key, 1, 3), 3.0)
  gru = recurrent.with_gate_bias('gru', recurrent.init_cell('gru', key, 1, 3), 3.0)
  assert np.all(lstm['hf']['bias'] == 3.0) and np.all(lstm['hi']['bias'] == 0.0)
  assert np.all(gru['iz']['bias'] == 3.0) and np.all(gru['ir']['bias'] == 0.0)


# --- attention -------------------------------------------------------------------------

from dl_course.fundamentals import attention, dates  # noqa: E402


def test_dot_product_attention_matches_flax_with_a_mask():
  import flax.linen as nn
  key = jax.random.key(0)
  q, k, v = (jax.random.normal(jax.random.fold_in(key, i), (2, 3, 5, 8)) for i in range(3))
  mask = jax.random.bernoulli(jax.random.fold_in(key, 9), 0.7, (2, 3, 5, 5)).at[..., 0].set(True)
  ours, weights = attention.dot_product_attention(q, k, v, mask)
  # flax wants [batch, length, heads, features]
  theirs = nn.dot_product_attention(*(a.transpose(0, 2, 1, 3) for a in (q, k, v)), mask=mask)
  np.testing.assert_allclose(ours, theirs.transpose(0, 2, 1, 3), atol=1e-5)
  np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
  assert float(jnp.max(jnp.where(mask, 0.0, weights))) < 1e-30, 'masked keys get no weight'


def test_causal_decoder_ignores_future_tokens_and_padding_is_ignored():
  model = attention.Transformer(dates.INPUT_VOCAB, dates.OUTPUT_VOCAB, dim=16, num_heads=2,
                                num_layers=1)
  x, y, _ = dates.make_split('train', 3, 0)
  decoder_in = dates.decoder_inputs(jnp.asarray(y))
  params = model.init(jax.random.key(0), x, decoder_in)['params']
  logits, _ = model.apply({'params': params}, x, decoder_in)
  changed = decoder_in.at[:, 6:].set(1)  # rewrite the future from position 6 on
  logits_changed, _ = model.apply({'params': params}, x, changed)
  np.testing.assert_allclose(logits[:, :6], logits_changed[:, :6], atol=1e-5)
  assert float(jnp.max(jnp.abs(logits[:, 6:] - logits_changed[:, 6:]))) > 1e-3
  # what sits in the input's padding does not matter either (the mask hides it from attention)
  memory, mask = model.apply({'params': params}, x, method='encode')
  assert mask.shape == (3, 1, 1, dates.INPUT_LENGTH)
  real = (x != 0)
  _, weights = model.apply({'params': params}, x, decoder_in)
  assert float(jnp.max(jnp.where(real[:, None, :], 0.0, weights))) < 1e-6


@pytest.mark.parametrize('score', ['additive', 'dot'])
def test_rnn_attention_weights_are_a_distribution_over_real_input_characters(score):
  model = attention.RNNSeq2Seq(dates.INPUT_VOCAB, dates.OUTPUT_VOCAB, hidden=16, score=score)
  x, y, _ = dates.make_split('test', 4, 1)
  params = model.init(jax.random.key(0), x, dates.decoder_inputs(jnp.asarray(y)))['params']
  tokens, weights = model.apply({'params': params}, x, dates.OUTPUT_LENGTH, dates.BOS,
                                method='greedy')
  assert tokens.shape == (4, dates.OUTPUT_LENGTH)
  np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
  assert float(jnp.max(jnp.where(x[:, None, :] != 0, 0.0, weights))) < 1e-6


def test_sinusoidal_positions_and_date_splits():
  table = np.asarray(attention.sinusoidal_positions(50, 8))
  np.testing.assert_allclose(table[:, 0], np.sin(np.arange(50)), atol=1e-6)
  np.testing.assert_allclose(table[:, 1], np.cos(np.arange(50)), atol=1e-6)
  _, train_y, _ = dates.make_split('train', 3000, 0)
  _, test_y, _ = dates.make_split('test', 500, 0)
  as_text = lambda ys: {dates.decode_output(r) for r in ys}
  assert not as_text(train_y) & as_text(test_y), 'train and test dates are disjoint'
  assert dates.decode_output(dates.encode_output('2026-11-24')) == '2026-11-24'


# --- seeing inside a CNN ---------------------------------------------------------------

from dl_course.fundamentals import visualise  # noqa: E402


def cam_net():
  model = visualise.CAMNet(10, (4, 8, 8))
  x = jnp.asarray(np.random.default_rng(0).uniform(size=(3, 28, 28, 1)), jnp.float32)
  params = jax.jit(model.init)(jax.random.key(1, impl='rbg'), x)['params']  # fast to compile
  return model, params, x, jnp.array([1, 5, 7])


def test_saliency_is_the_input_gradient_of_the_class_logit():
  model, params, x, classes = cam_net()
  one_logit = lambda xi, c: model.apply({'params': params}, xi[None])[0, c]
  grads = jax.jit(jax.vmap(jax.grad(one_logit)))(x, classes)  # each example on its own
  saliency = jax.jit(visualise.saliency, static_argnums=0)
  np.testing.assert_allclose(saliency(model, params, x, classes),
                             jnp.abs(grads)[..., 0], rtol=1e-5, atol=1e-7)


def test_cam_and_grad_cam_are_input_sized_normalised_and_equal_for_a_gap_network():
  model, params, x, classes = cam_net()
  cam = visualise.class_activation_map(model, params, x, classes)
  grad_cam = visualise.grad_cam(model, params, x, classes)
  assert cam.shape == grad_cam.shape == (3, 28, 28)
  for maps in (cam, grad_cam):
    np.testing.assert_allclose(maps.min(axis=(1, 2)), 0.0, atol=1e-6)
    np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0, atol=1e-6)
  np.testing.assert_allclose(cam, grad_cam, atol=1e-4)
  other = visualise.grad_cam(model, params, x, jnp.array([2, 2, 2]))
  assert float(jnp.max(jnp.abs(other - grad_cam))) > 1e-2, 'the map depends on the class'


def test_delete_pixels_blanks_exactly_the_top_scores_and_maximisation_stays_in_range():
  x = jnp.ones((2, 4, 4, 1))
  scores = jnp.arange(32.0).reshape(2, 4, 4)
  out = visualise.delete_pixels(x, scores, 0.25)
  assert int((out == 0).sum()) == 8
  assert bool(jnp.all(out[:, 3, :, 0] == 0)) and bool(jnp.all(out[:, :3] == 1))
  model, params, _, classes = cam_net()
  images = visualise.maximise_class(model, params, classes, (28, 28, 1), jax.random.key(3),
                                    steps=5)
  assert images.shape == (3, 28, 28, 1)
  assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0


def test_initialisations_have_their_stated_scale():
  from dl_course.fundamentals import initialisation_study as init
  key = jax.random.key(0)
  for name, variance in init.VARIANCES.items():
    weights = init.init_weights(name, 'relu', key, 3, 512, 64)
    assert weights[0].shape == (64, 512) and weights[1].shape == (512, 512)
    np.testing.assert_allclose(float(jnp.var(weights[0])) * 64, variance, rtol=0.05)
    np.testing.assert_allclose(float(jnp.var(weights[1])) * 512, variance, rtol=0.05)
  square = init.init_weights('orthogonal', 'relu', key, 2, 64, 64)[1]
  np.testing.assert_allclose(square.T @ square, 2.0 * np.eye(64), atol=1e-4)


# --- tricks of the trade: splits, early stopping, batch norm --------------------------------

from dl_course.errors import ConfigError  # noqa: E402
from dl_course.fundamentals import augment, cnn_study, tricks  # noqa: E402
from dl_course.models.mlp import MLP  # noqa: E402


def test_kfold_splits_partition_the_examples():
  train, validation = tricks.kfold_splits(23, 5, seed=3)
  assert train.shape == (5, 16) and validation.shape == (5, 4)
  used = np.sort(validation.ravel())
  assert len(set(used)) == 20 and set(used) <= set(range(23))  # 3 left over by the equal cut
  for fold in range(5):
    assert not set(train[fold]) & set(validation[fold])
    assert set(train[fold]) | set(validation[fold]) == set(used)
  with pytest.raises(ValueError, match='folds'):
    tricks.kfold_splits(10, 1, seed=0)


def test_early_stopping_point_keeps_the_best_before_patience_runs_out():
  values = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 2.0]
  assert tricks.early_stopping_point(values, patience=3) == (2, 5)  # never sees the 2.0
  assert tricks.early_stopping_point(values, patience=4) == (6, 6)
  assert tricks.early_stopping_point([3.0, 2.0, 1.0], patience=1) == (2, 2)


def test_fit_keeps_the_state_early_stopping_chose():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((64, 6)).astype(np.float32)
  y = rng.integers(0, 3, 64)  # random labels: the validation loss soon rises
  val = (rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32))
  model = MLP(3, (32,))
  _, history, kept = tricks.fit_classifier(
      model, optax.adam(3e-2), x, y, seed=0, num_steps=120, batch_size=16, eval_every=10,
      eval_sets={'val': val}, early_stopping=('val', 2))
  best, stop = tricks.early_stopping_point(history['val/loss'], 2)
  assert stop < len(history['step']) - 1, 'the test needs a run that stops early'
  assert float(tricks.evaluate(model, kept, *val)['loss']) == pytest.approx(
      history['val/loss'][best], rel=1e-6)
  assert int(kept.step) == history['step'][best]


def test_batch_norm_uses_batch_statistics_in_training_and_running_averages_in_eval():
  model = MLP(2, (8,), batch_norm=True)
  x = jax.random.normal(jax.random.key(0), (16, 5)) * 3.0 + 1.0
  variables = model.init(jax.random.key(1), x)
  _, updates = model.apply(variables, x, train=True, mutable=['batch_stats'])
  moved = jax.tree.leaves(jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))),
                                       updates['batch_stats'], variables['batch_stats']))
  assert max(moved) > 0, 'a training step updates the running averages'
  alone = model.apply(variables, x[:1])
  in_batch = model.apply(variables, x)[:1]
  np.testing.assert_allclose(alone, in_batch, rtol=1e-5, atol=1e-6)  # eval: per example
  train_alone = model.apply(variables, x[:4], train=True, mutable=['batch_stats'])[0][:1]
  train_in_batch = model.apply(variables, x, train=True, mutable=['batch_stats'])[0][:1]
  assert float(jnp.max(jnp.abs(train_alone - train_in_batch))) > 1e-3  # train: batch-dependent


# --- CNNs: augmentation and few-label subsets ----------------------------------------------

IMAGE_5x5 = jnp.asarray(np.random.default_rng(0).uniform(size=(5, 5, 2)), jnp.float32)


def test_crop_and_affine_move_pixels_as_stated():
  np.testing.assert_array_equal(augment.crop(IMAGE_5x5, 2, 2, 2), IMAGE_5x5)
  shifted = np.zeros((5, 5, 2), np.float32)
  shifted[1:, :3] = IMAGE_5x5[:-1, 2:]  # down 1, left 2
  np.testing.assert_array_equal(augment.crop(IMAGE_5x5, 2, 1, 4), shifted)
  np.testing.assert_allclose(augment.affine(IMAGE_5x5, 0.0, 1.0, -2.0), shifted, atol=1e-6)
  np.testing.assert_allclose(augment.affine(IMAGE_5x5, 0.0, 0.0, 0.0), IMAGE_5x5, atol=1e-6)
  np.testing.assert_allclose(augment.affine(IMAGE_5x5, 90.0, 0.0, 0.0),
                             jnp.rot90(IMAGE_5x5, -1), atol=1e-5)


def test_each_example_gets_its_own_draw_and_the_key_fixes_it():
  batch = jnp.stack([IMAGE_5x5] * 6)
  transform = augment.digit_augmentation(1, 10.0, 1.0)
  key = jax.random.key(4)
  out = transform(key, batch)
  assert out.shape == batch.shape
  assert len({np.asarray(o).tobytes() for o in out}) == 6
  np.testing.assert_array_equal(out, transform(key, batch))
  flips = jax.vmap(augment.random_flip)(jax.random.split(key, 32), jnp.stack([IMAGE_5x5] * 32))
  flipped = [bool(jnp.array_equal(f, IMAGE_5x5[:, ::-1])) for f in flips]
  assert 0 < sum(flipped) < 32
  assert all(f or bool(jnp.array_equal(o, IMAGE_5x5)) for f, o in zip(flipped, flips))


def test_few_labels_takes_that_many_of_each_class():
  y = np.repeat(np.arange(10), 7)
  chosen = cnn_study.few_labels(y, range(5, 10), 3, seed=0)
  assert np.all(np.diff(chosen) > 0)
  assert sorted(np.bincount(y[chosen], minlength=10)[5:]) == [3] * 5
  assert set(y[chosen]) == set(range(5, 10))
  with pytest.raises(ConfigError, match='labels_per_class'):
    cnn_study.few_labels(y, range(5, 10), 8, seed=0)


@pytest.mark.slow
def test_load_run_gives_back_the_explained_cnn(tmp_path):
  """The visualisation study's CNN, from its stage checkpoint, scores the last
  test accuracy the run logged."""
  import dl_course
  from dl_course.data import load
  from experiments.registry import STUDIES
  study = STUDIES['visualisation']
  config = study.get_config('quick')
  config.train.num_steps, config.train.eval_every = 40, 20
  config.num_explained, config.maximise_steps = 20, 5
  study.run(config, tmp_path)
  loaded = dl_course.load_run(tmp_path)
  cnn = loaded.stages['cnn']
  assert cnn.step == 40 and set(cnn.state) == {'params', 'opt_state'}
  test = load('mnist5k', 'test')
  accuracy = np.mean(np.argmax(cnn.model.apply({'params': cnn.params}, test.x), -1) == test.y)
  logged = [r for r in loaded.metrics if 'test/accuracy' in r]
  assert logged[-1]['step'] == 40
  assert accuracy == pytest.approx(logged[-1]['test/accuracy'], abs=1e-6)
