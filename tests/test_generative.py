"""Generative models: every bijector inverts and has the right log-det, the
2-D densities are densities, bits/dim of the uniform model, linear AE = PCA,
IWAE >= ELBO, a short flow beats a Gaussian, GAN mode counting."""
import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import scipy.linalg

from dl_course.errors import ConfigError
from dl_course.generative import (autoencoders_study, bijectors as bj, flows,
                                  flows2d_study, gan, gumbel, sample_quality, toy2d, vae)
from dl_course.generative.images import (independent_pixel_bits, independent_pixel_samples,
                                        integer_images)

KEY = jax.random.key(0)
VECTOR = jax.random.normal(KEY, (5, 4))
IMAGE = jax.random.uniform(KEY, (3, 4, 4, 2), minval=0.05, maxval=0.95)

BIJECTORS = {
    'affine coupling, halves': (lambda: bj.AffineCoupling('half', 1, (8,)), VECTOR),
    'affine coupling, checkerboard': (lambda: bj.AffineCoupling('checkerboard', 0, 4), IMAGE),
    'affine coupling, channels': (lambda: bj.AffineCoupling('channel', 1, 4), IMAGE),
    'actnorm': (bj.ActNorm, IMAGE),
    'invertible 1x1 convolution': (bj.Invertible1x1Conv, IMAGE),
    'squeeze': (bj.Squeeze, IMAGE),
    'reverse': (bj.Reverse, VECTOR),
    'MAF layer': (lambda: bj.MAFLayer((16,)), VECTOR),
    'spline coupling': (lambda: bj.SplineCoupling(0, (8,), 5, 2.0), VECTOR),
    'logit': (flows.Logit, IMAGE),
    'realnvp': (lambda: flows.realnvp(4, 3, (8,)), VECTOR),
    'maf': (lambda: flows.maf(3, (8,)), VECTOR),
    'neural spline': (lambda: flows.neural_spline(4, 2, (8,), 4, 2.0), VECTOR),
    'glow, multi-scale': (lambda: flows.MultiScaleFlow((4, 4, 2), 2, 2, 4, 'glow'), IMAGE),
    'realnvp, multi-scale': (lambda: flows.MultiScaleFlow((4, 4, 2), 2, 2, 4, 'realnvp'), IMAGE),
}


def perturbed(variables, scale=0.1):
  """Parameters moved off their identity initialisation, so the test has teeth.
  (NumPy noise: a threefry draw per leaf takes XLA:CPU seconds to compile.)"""
  rng = np.random.default_rng(1)
  moved = jax.tree_util.tree_map(
      lambda leaf: leaf + scale * rng.standard_normal(leaf.shape).astype(leaf.dtype),
      variables.get('params', {}))
  return {**variables, 'params': moved}


# Parameters drawn with the 'rbg' generator: Glow's init compiles 3x faster than with threefry.
INIT_KEY = jax.random.key(0, impl='rbg')


@pytest.mark.parametrize('name', BIJECTORS)
def test_bijector_inverts_and_its_log_det_matches_the_jacobian(name):
  make, x = BIJECTORS[name]
  module = make()
  apply = jax.jit(module.apply, static_argnames='inverse')  # eager Glow compiles op by op: slow
  variables = perturbed(jax.jit(module.init)(INIT_KEY, x))
  y, log_det = apply(variables, x)
  x_back, inverse_log_det = apply(variables, y, inverse=True)
  np.testing.assert_allclose(x_back, x, atol=1e-5)
  np.testing.assert_allclose(inverse_log_det, -log_det, atol=1e-4, rtol=1e-5)
  jacobian = jax.jit(jax.jacrev(lambda e: module.apply(variables, e[None])[0].reshape(-1)))(x[0])
  _, expected = jnp.linalg.slogdet(jacobian.reshape(jacobian.shape[0], -1))
  assert abs(float(log_det[0]) - float(expected)) <= 1e-4 * max(1.0, abs(float(expected)))


def test_actnorm_initialises_from_the_data():
  x = 3.0 + 2.0 * jax.random.normal(KEY, (256, 3))
  module = bj.ActNorm()
  y, _ = module.apply(module.init(KEY, x), x)
  np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
  np.testing.assert_allclose(y.std(0), 1.0, atol=1e-4)


def test_made_is_autoregressive():
  made = bj.MADE((16, 16))
  variables = perturbed(made.init(KEY, VECTOR), scale=1.0)
  jacobian = jax.jacobian(lambda x: made.apply(variables, x[None])[0][0])(VECTOR[0])
  assert np.all(np.triu(np.asarray(jacobian)) == 0)  # mu_i depends on x_<i only
  assert np.any(np.tril(np.asarray(jacobian), -1) != 0)


def test_spline_is_the_identity_outside_its_interval_and_monotone_inside():
  line = jnp.linspace(-3, 3, 601)
  x = jnp.stack([line, jnp.full_like(line, 0.3)], -1)  # entry 0 moves, its conditioner's input not
  layer = bj.SplineCoupling(1, (8,), 6, 2.0)
  variables = perturbed(layer.init(KEY, x), scale=1.0)
  y, _ = layer.apply(variables, x)
  outside = jnp.abs(line) > 2.0
  np.testing.assert_allclose(y[outside, 0], line[outside], atol=1e-6)
  np.testing.assert_array_equal(y[:, 1], x[:, 1])
  assert np.all(np.diff(np.asarray(y[:, 0])) > 0)
  assert float(jnp.max(jnp.abs(y[:, 0] - line))) > 0.05


def test_uniform_model_has_exactly_log2_levels_bits_per_dim():
  zero_log_density = jnp.zeros((7,))  # the uniform density on [0, 1]^D
  np.testing.assert_allclose(flows.bits_per_dim(zero_log_density, 784, 256), 8.0, rtol=1e-7)
  np.testing.assert_allclose(flows.bits_per_dim(zero_log_density, 64, 17), math.log2(17), rtol=1e-7)


def test_dequantised_pixels_stay_in_their_bins():
  levels = jnp.arange(17.0)
  values = flows.dequantise(KEY, jnp.tile(levels, (50, 1)), 17)
  np.testing.assert_array_equal(np.floor(np.asarray(values) * 17), np.tile(np.arange(17), (50, 1)))


def test_digits_are_integer_levels_and_the_pixel_baseline_is_sane():
  train, test = integer_images('digits')
  assert train.min() == 0 and train.max() == 16
  np.testing.assert_array_equal(train, np.round(train))
  bits = independent_pixel_bits(train, test, 17)
  assert 0 < bits < math.log2(17)


@pytest.mark.parametrize('name', ['8gaussians', 'moons', '2spirals', 'checkerboard'])
def test_density_integrates_to_one(name):
  axis = jnp.linspace(-6, 6, 241)
  xx, yy = jnp.meshgrid(axis, axis)
  points = jnp.stack([xx.ravel(), yy.ravel()], -1)
  total = float(jnp.exp(toy2d.log_density(name, points)).sum() * (axis[1] - axis[0]) ** 2)
  assert abs(total - 1.0) < 0.02


def test_known_entropies():
  assert toy2d.entropy('checkerboard', KEY, 1000) == (pytest.approx(math.log(32)), 0.0)
  entropy, error = toy2d.entropy('8gaussians', KEY, 20_000)
  # 8 well-separated modes: ln 8 + ln(2 pi e s^2), s = 0.5 / 1.414
  assert abs(entropy - (math.log(8) + math.log(2 * math.pi * math.e * toy2d.EIGHT_STD ** 2))) < 0.02
  assert error < 0.01


def test_short_spline_flow_beats_a_gaussian_on_8gaussians():
  config = ml_collections.ConfigDict(dict(
      num_layers=2, hidden=32, num_bins=8, steps_per_block=100,
      train=dict(num_steps=200, batch_size=256), optimizer=dict(learning_rate=3e-3)))
  flow = flows2d_study.make_flow('spline', config)
  variables, losses = flows2d_study.train_flow(flow, '8gaussians', config, KEY)
  test_x, test_log_p = toy2d.sample('8gaussians', jax.random.key(5), 4000)
  train_x = np.asarray(toy2d.draw('8gaussians', jax.random.key(6), 4000), np.float64)
  flow_nll = float(-flows.log_prob(flow, variables, test_x).mean())
  gaussian_nll = flows2d_study.gaussian_baseline_nll(train_x, np.asarray(test_x, np.float64))
  assert losses[-1] < losses[0]
  assert flow_nll < gaussian_nll - 0.3
  assert flow_nll > float(-test_log_p.mean()) - 0.05  # cannot beat the entropy


def test_linear_autoencoder_finds_the_principal_subspace():
  rng = np.random.default_rng(0)
  scales = np.array([5.0, 4.0, 3.0, 0.5, 0.4, 0.3, 0.2, 0.1])
  x = rng.standard_normal((500, 8)) * scales @ np.linalg.qr(rng.standard_normal((8, 8)))[0]
  x = x - x.mean(0)
  with jax.enable_x64(True):
    basis, _ = autoencoders_study.principal_subspace(x, 3)
    params, _ = autoencoders_study.train_linear_autoencoder(x, 3, 300, seed=0)
  angles = scipy.linalg.subspace_angles(np.asarray(params['decoder']).T, basis)
  assert angles.max() <= 1e-3


def test_iwae_bound_is_at_least_the_elbo_and_grows_with_k():
  model = vae.VAE(16, 2, (32,), 'bernoulli')
  x = (jax.random.uniform(KEY, (64, 16)) < 0.3).astype(jnp.float32)
  params = perturbed(model.init(KEY, x), scale=0.3)['params']
  bounds = vae.iwae_bounds(model, params, x, jax.random.key(2), (1, 10, 100), chunk=50)
  elbo = float(vae.elbo(model, params, x, jax.random.key(3)).mean())
  assert abs(bounds[1] - elbo) < 0.3  # L_1 is the ELBO (two Monte Carlo estimates of it)
  assert bounds[1] < bounds[10] < bounds[100]


def test_gaussian_decoder_log_likelihood_is_the_normal_density():
  model = vae.VAE(3, 2, (4,), 'gaussian')
  x = jnp.array([[0.1, 0.5, 0.9]])
  params = model.init(KEY, x)['params']
  mean = jnp.array([[0.2, 0.4, 0.7]])
  value = model.apply({'params': params}, x, mean, method=vae.VAE.log_likelihood)
  expected = jax.scipy.stats.norm.logpdf(x, mean, math.exp(-2.0)).sum()
  np.testing.assert_allclose(value[0], expected, rtol=1e-5)


def test_mode_coverage_counts_modes_and_quality():
  modes = jnp.asarray(toy2d.EIGHT_CENTRES)
  samples = jnp.concatenate([jnp.repeat(modes[:7], 10, axis=0), jnp.full((10, 2), 50.0)])
  covered, quality, shares = gan.mode_coverage(samples, modes, 1.0, 0.05)
  assert int(covered) == 7
  assert float(quality) == pytest.approx(70 / 80)
  assert float(shares[7]) == 0.0


def test_minimax_generator_loss_saturates_where_the_non_saturating_one_does_not():
  confident_fake = jnp.array([-8.0])  # D(G(z)) = sigmoid(-8): the discriminator is winning
  grad_minimax = jax.grad(lambda l: gan.generator_loss(l, 'minimax'))(confident_fake)
  grad_non_saturating = jax.grad(lambda l: gan.generator_loss(l, 'non_saturating'))(confident_fake)
  assert abs(float(grad_minimax[0])) < 1e-3 < abs(float(grad_non_saturating[0]))


def test_flows2d_rejects_an_unknown_density():
  config = ml_collections.ConfigDict(dict(
      densities=('8gaussians', 'swissroll'), comparison_models=(), primary_model='spline',
      steps_per_block=10, num_layers=1, hidden=4, num_bins=4, test_size=10, gap_target=0.1,
      train=dict(num_steps=10, batch_size=8), optimizer=dict(learning_rate=1e-3)))
  with pytest.raises(ConfigError, match='swissroll'):
    flows2d_study.validate(config)


def test_gumbel_max_samples_the_categorical_and_low_temperature_is_nearly_one_hot():
  logits = jnp.log(jnp.array([0.2, 0.5, 0.3]))
  draws = gumbel.gumbel_softmax(jnp.tile(logits, (20_000, 1)), KEY, 0.05)
  np.testing.assert_allclose(np.bincount(np.asarray(draws.argmax(-1)), minlength=3) / 20_000,
                             [0.2, 0.5, 0.3], atol=0.015)
  assert float(draws.max(-1).mean()) > 0.95


def test_straight_through_is_one_hot_forward_with_the_relaxed_gradient():
  logits = jax.random.normal(KEY, (4, 3, 5))
  key = jax.random.key(7)
  hard = gumbel.straight_through(logits, key, 0.7)
  values = np.asarray(hard)  # hard + soft - stop_gradient(soft): one-hot up to rounding
  np.testing.assert_allclose(values, np.round(values), atol=1e-6)
  np.testing.assert_allclose(values.sum(-1), 1.0, atol=1e-6)
  weights = jax.random.normal(jax.random.key(8), (4, 3, 5))
  grad_hard = jax.grad(lambda l: jnp.sum(weights * gumbel.straight_through(l, key, 0.7)))(logits)
  grad_soft = jax.grad(lambda l: jnp.sum(weights * gumbel.gumbel_softmax(l, key, 0.7)))(logits)
  np.testing.assert_allclose(grad_hard, grad_soft, rtol=1e-5, atol=1e-6)


def test_kl_to_uniform():
  assert float(gumbel.kl_to_uniform(jnp.zeros((1, 2, 4)))[0]) == pytest.approx(0.0, abs=1e-6)
  q = jnp.array([0.7, 0.2, 0.1])
  expected = float(jnp.sum(q * jnp.log(q * 3)))
  assert float(gumbel.kl_to_uniform(jnp.log(q)[None, None])[0]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize('estimator', ['reinforce', 'reinforce_baseline'])
def test_score_function_estimators_are_unbiased(estimator):
  """Their mean over many draws = the exact gradient of E_q[log p(x|c)], by enumeration."""
  model = gumbel.CategoricalVAE(6, 1, 3, (8,))
  x = (jax.random.uniform(KEY, (2, 6)) < 0.5).astype(jnp.float32)
  params = perturbed(model.init(KEY, x), scale=0.5)['params']
  variables = {'params': params}
  logits = model.apply(variables, x, method=gumbel.CategoricalVAE.encode)  # [2, 1, 3]

  def expected_reconstruction(logits):
    q = jax.nn.softmax(logits, -1)[:, 0]  # [2, 3]
    codes = jnp.eye(3)[:, None, None, :]  # each class as a one-hot code [3, 1, 1, 3]
    values = jnp.stack([gumbel.bernoulli_log_likelihood(
        x, model.apply(variables, jnp.broadcast_to(c, (2, 1, 3)), method=gumbel.CategoricalVAE.decode))
        for c in codes], -1)  # [2, 3]
    return jnp.sum(q * values)

  exact = jax.grad(expected_reconstruction)(logits)
  draws = gumbel.reconstruction_gradient_samples(model, params, x, jax.random.key(3), 40_000,
                                                 estimator, 0.5)
  np.testing.assert_allclose(draws.mean(0), exact, atol=0.05 * float(jnp.abs(exact).max()) + 0.02)


def test_frechet_distance_matches_the_closed_form_and_vanishes_on_itself():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((400, 4))
  b = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 4)) + 1.0
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  expected = (np.sum((a.mean(0) - b.mean(0)) ** 2)
              + np.trace(cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real))
  assert sample_quality.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
  assert abs(sample_quality.frechet_distance(a, a)) < 1e-9
  dead = np.concatenate([a, np.zeros((400, 1))], 1)  # a dead ReLU feature: singular covariance
  assert np.isfinite(sample_quality.frechet_distance(dead, dead + 0.0))


def test_dcgan_pieces_have_the_right_shapes_and_one_step_moves_both_networks():
  images = jnp.asarray(np.random.default_rng(0).uniform(size=(20, 8, 8, 1)), jnp.float32)
  draw = lambda key, n: images[jax.random.randint(key, (n,), 0, len(images))]
  model = gan.make_gan(draw, gan.DCGenerator((8, 8, 1), (16, 8)), gan.DCDiscriminator((8, 16)),
                       data_shape=(8, 8, 1), noise_dim=4, generator_loss_kind='non_saturating',
                       batch_size=6, learning_rate=1e-3)
  carry = jax.jit(model.init)(INIT_KEY)
  samples = jax.jit(model.sample, static_argnums=2)(carry[0], KEY, 5)
  assert samples.shape == (5, 8, 8, 1) and float(jnp.max(jnp.abs(samples))) <= 1.0
  new, losses = jax.jit(model.step)(carry, jnp.int32(0))
  assert losses.shape == (2,) and np.all(np.isfinite(losses))
  for before, after in ((carry[0], new[0]), (carry[1], new[1])):
    assert any(float(jnp.max(jnp.abs(x - y))) > 0
               for x, y in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


def test_independent_pixels_keep_each_pixel_marginal_and_break_the_images():
  rng = np.random.default_rng(0)
  train = rng.integers(0, 2, (50, 3, 3, 1)).astype(np.float32)
  train[:, 2, 2] = train[:, 0, 0]  # two pixels always equal in the data
  out = np.asarray(independent_pixel_samples(jnp.asarray(train), KEY, 4000))
  assert out.shape == (4000, 3, 3, 1)
  np.testing.assert_allclose(out.mean(0), train.mean(0), atol=0.03)
  assert abs(np.corrcoef(out[:, 0, 0, 0], out[:, 2, 2, 0])[0, 1]) < 0.1


def test_m2_unlabelled_bound_sums_the_labelled_bounds_under_q_plus_its_entropy():
  from dl_course.generative import semi_supervised, semi_supervised_study
  model = semi_supervised.M2(6, 3, 2, (8,))
  x = jnp.asarray(np.random.default_rng(0).integers(0, 2, (4, 6)), jnp.float32)
  params = jax.jit(model.init)(INIT_KEY, x)['params']
  key = jax.random.key(3)
  keys = jax.random.split(key, 3)
  bounds = jnp.stack([semi_supervised.labelled_bound(model, params, x,
                                                     jnp.broadcast_to(jnp.eye(3)[c], (4, 3)),
                                                     keys[c]) for c in range(3)], -1)
  q = jax.nn.softmax(model.apply({'params': params}, x, method=semi_supervised.M2.classify))
  expected = jnp.sum(q * bounds, -1) - jnp.sum(q * jnp.log(q), -1)
  np.testing.assert_allclose(semi_supervised.unlabelled_bound(model, params, x, key), expected,
                             rtol=1e-5)
  labelled, rest = semi_supervised_study.split_labels(np.repeat(np.arange(3), 5), 2, seed=0)
  assert len(labelled) == 6 and not set(labelled) & set(rest) and len(rest) == 9
  assert sorted(np.repeat(np.arange(3), 5)[labelled]) == [0, 0, 1, 1, 2, 2]


def test_m2_gaussian_likelihood_is_the_normal_log_density():
  import scipy.stats
  from dl_course.generative import semi_supervised
  model = semi_supervised.M2(3, 2, 2, (4,), 'gaussian')
  x = jnp.asarray(np.random.default_rng(1).standard_normal((5, 3)), jnp.float32)
  params = jax.jit(model.init)(INIT_KEY, x)['params']
  params = {**params, 'log_scale': jnp.array([-0.5, 0.0, 0.7])}
  decoded = x + 0.3
  ours = model.apply({'params': params}, x, decoded, method=semi_supervised.M2.log_likelihood)
  expected = scipy.stats.norm.logpdf(np.asarray(x), np.asarray(decoded),
                                     np.exp([-0.5, 0.0, 0.7])).sum(-1)
  np.testing.assert_allclose(ours, expected, rtol=1e-5)


@pytest.mark.slow
def test_load_run_gives_back_the_trained_vae(tmp_path):
  """The VAE's stage checkpoint, applied with the study's evaluation key, gives
  the last test ELBO its curve logged."""
  import dl_course
  from dl_course.generative import vae, vae_study
  from experiments.registry import STUDIES
  study = STUDIES['vae_digits']
  config = study.get_config('quick')
  config.train.num_steps, config.train.eval_every, config.iwae_ks = 40, 20, (1, 10)
  summary = study.run(config, tmp_path)
  run = dl_course.load_run(tmp_path)
  stage = run.stages['vae']
  assert stage.step == 40 and set(stage.state) == {'params', 'opt_state'}
  _, test, _, _ = vae_study.load_data(config)
  eval_key = jax.random.split(jax.random.key(config.seed), 4)[2]
  elbo = vae.elbo(stage.model, stage.params, jnp.asarray(test), eval_key).mean()
  assert float(elbo) == pytest.approx(summary['curve']['test_elbo'][-1], rel=1e-6)
