"""Autoencoders: the linear one is PCA; a nonlinear one trained on noisy
inputs learns to denoise.

Linear autoencoder (Baldi & Hornik 1989): x -> D E x with E [k, d], D [d, k],
no biases, trained to convergence (full-batch L-BFGS) on the centred 8x8
digits. Its global minima are exactly the decoders whose columns span the
top-k principal subspace (E and D need not be orthogonal or the PCA basis
itself: any invertible k x k mixing is equally good), so the principal angles
between span(D) and the top-k right singular vectors of the data, and the gap
between its error and PCA's (the sum of the trailing eigenvalues), go to zero.

Denoising autoencoder (Vincent et al. 2008) on MNIST-5k: an MLP with a
sigmoid output trained to map x + N(0, s^2) back to x, beside the same
network trained on clean inputs and the rank-k PCA projection of the noisy
input; test MSE per pixel against the clean images for a range of noise levels.
"""
from __future__ import annotations

import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.linalg

from dl_course import data
from dl_course.claims import CHECK, FINDING, Claim, at_most
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.engine.blocks import train_args, train_in_blocks
from dl_course.generative.images import image_grid
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('linear_latent_dim', 'lbfgs_steps', 'latent_dim', 'train.num_steps',
              'train.batch_size', 'train.eval_every'):
    check_range(config, key, 1, integer=True)
  if config.linear_latent_dim >= 64:
    raise ConfigError('linear_latent_dim', config.linear_latent_dim, 'less than 64 (the pixels)')
  check_number_list(config, 'hidden', 1, integer=True)
  check_number_list(config, 'noise_levels', 0)
  check_range(config, 'train_noise', 0, low_open=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  if config.train_noise not in config.noise_levels:
    raise ConfigError('train_noise', config.train_noise,
                      f'one of noise_levels {list(config.noise_levels)}')
  check_multiple(config, 'train.num_steps', 'train.eval_every')


def principal_subspace(x_centred, k: int):
  """Top-k right singular vectors [d, k] and the eigenvalues of the covariance."""
  _, singular_values, vt = np.linalg.svd(x_centred, full_matrices=False)
  return vt[:k].T, singular_values ** 2 / len(x_centred)


def train_linear_autoencoder(x_centred, k: int, steps: int, seed: int):
  """Full-batch L-BFGS on mean ||x - D E x||^2 / d (float64: the point is the limit)."""
  x = jnp.asarray(x_centred, jnp.float64)
  d = x.shape[1]
  key_e, key_d = jax.random.split(jax.random.key(seed))
  params = {'encoder': jax.random.normal(key_e, (d, k), jnp.float64) / np.sqrt(d),
            'decoder': jax.random.normal(key_d, (k, d), jnp.float64) / np.sqrt(k)}

  def loss(params):
    return jnp.mean((x @ params['encoder'] @ params['decoder'] - x) ** 2)

  solver = optax.lbfgs()
  value_and_grad = optax.value_and_grad_from_state(loss)

  @jax.jit
  def step(params, state):
    value, grad = value_and_grad(params, state=state)
    updates, state = solver.update(grad, state, params, value=value, grad=grad, value_fn=loss)
    return optax.apply_updates(params, updates), state

  state = solver.init(params)
  for _ in range(steps):
    params, state = step(params, state)
  return params, float(loss(params))


def linear_autoencoder_vs_pca(config) -> dict:
  with jax.enable_x64(True):
    x = data.load('digits', 'train').x.reshape(-1, 64).astype(np.float64)
    x_centred = x - x.mean(0)
    k = config.linear_latent_dim
    basis, eigenvalues = principal_subspace(x_centred, k)
    params, mse = train_linear_autoencoder(x_centred, k, config.lbfgs_steps, config.seed)
    decoder_span = np.asarray(params['decoder']).T
    angles = scipy.linalg.subspace_angles(decoder_span, basis)
    pca_mse = float(eigenvalues[k:].sum() / 64)
  return {'k': k, 'max_principal_angle': float(angles.max()), 'mse': mse, 'pca_mse': pca_mse,
          'relative_mse_gap': (mse - pca_mse) / pca_mse, 'eigenvalues': eigenvalues.tolist()}


class MLPAutoencoder(nn.Module):
  hidden: tuple[int, ...]
  latent_dim: int

  @nn.compact
  def __call__(self, x):
    h = x
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    h = nn.Dense(self.latent_dim)(h)
    for width in reversed(self.hidden):
      h = nn.relu(nn.Dense(width)(h))
    return nn.sigmoid(nn.Dense(x.shape[-1])(h))


def denoising(config, log) -> dict:
  train = data.load('mnist5k', 'train').x.reshape(-1, 784).astype(np.float32)
  test = jnp.asarray(data.load('mnist5k', 'test').x.reshape(-1, 784), jnp.float32)
  model = MLPAutoencoder(tuple(config.hidden), config.latent_dim)
  root = jax.random.key(config.seed)
  test_noise = jax.random.normal(jax.random.fold_in(root, 1), test.shape)
  results = {}
  for name, train_noise in (('denoising', config.train_noise), ('plain', 0.0)):
    params = model.init(jax.random.fold_in(root, 2), test[:1])['params']

    def loss(params, xb, yb, key, step, train_noise=train_noise):
      del yb, step
      noisy = xb + train_noise * jax.random.normal(key, xb.shape)
      return jnp.mean((model.apply({'params': params}, noisy) - xb) ** 2)

    def test_mse(params, train_noise=train_noise):
      return jnp.mean((model.apply({'params': params}, test + train_noise * test_noise) - test) ** 2)

    def record(step, train_mse, test_value, name=name):
      log({'step': step, 'model': name, 'train/mse': train_mse, 'test/mse': test_value})

    params, _, _ = train_in_blocks(
        loss, test_mse, params, optax.adam(config.optimizer.learning_rate), train,
        np.zeros(len(train)), **train_args(config), log=record, key=jax.random.fold_in(root, 3))
    results[name] = [float(jnp.mean((model.apply({'params': params}, test + s * test_noise)
                                     - test) ** 2)) for s in config.noise_levels]
    if name == 'denoising':
      noisy_examples = test[:8] + config.train_noise * test_noise[:8]
      examples = {'clean': test[:8], 'noisy': jnp.clip(noisy_examples, 0, 1),
                  'denoised': model.apply({'params': params}, noisy_examples)}
  mean = train.mean(0)
  basis, _ = principal_subspace(train - mean, config.latent_dim)
  results['pca'] = []
  results['noisy input'] = []
  for s in config.noise_levels:
    noisy = np.asarray(test + s * test_noise)
    projected = (noisy - mean) @ basis @ basis.T + mean
    results['pca'].append(float(np.mean((projected - np.asarray(test)) ** 2)))
    results['noisy input'].append(float(np.mean((noisy - np.asarray(test)) ** 2)))
  return {'noise_levels': list(config.noise_levels), 'mse': results,
          'examples': {k: np.round(np.asarray(v), 3).tolist() for k, v in examples.items()}}


def run(config, log) -> dict:
  linear = linear_autoencoder_vs_pca(config)
  log({'step': config.lbfgs_steps, 'linear_autoencoder': linear})
  return {'linear': linear, 'denoising': denoising(config, log),
          'train_noise': config.train_noise}


def claims(config, summary) -> list[Claim]:
  linear = summary['linear']
  noisy = summary['denoising']
  i = noisy['noise_levels'].index(summary['train_noise'])
  mse = noisy['mse']
  return [
      at_most(f'linear autoencoder (k = {linear["k"]}, digits): largest principal angle to the '
              f'top-{linear["k"]} PCA subspace, rad', linear['max_principal_angle'],
              config.claim.max_principal_angle, fmt='e', kind=CHECK),
      at_most('linear autoencoder: (its MSE - PCA\'s) / PCA\'s', linear['relative_mse_gap'],
              config.claim.max_pca_mse_gap, fmt='e', kind=CHECK),
      at_most(f'denoising AE at noise {summary["train_noise"]}: test MSE / noisy input\'s',
              mse['denoising'][i] / mse['noisy input'][i], config.claim.max_denoising_ratio,
              digits=3, kind=FINDING),
      at_most(f'denoising AE beats the plain AE ({mse["plain"][i]:.4f}) and rank-k PCA '
              f'({mse["pca"][i]:.4f}) at noise {summary["train_noise"]}: MSE ratio to the better',
              mse['denoising'][i] / min(mse['plain'][i], mse['pca'][i]),
              config.claim.max_denoising_vs_best, digits=3, kind=FINDING),
  ]


def plot(summary, workdir) -> None:
  workdir = pathlib.Path(workdir)
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  linear = summary['linear']
  eigenvalues = np.asarray(linear['eigenvalues'])
  axes[0].semilogy(np.arange(1, len(eigenvalues) + 1), eigenvalues, 'o-', ms=3)
  axes[0].axvline(linear['k'] + 0.5, color='k', ls='--', lw=0.8)
  axes[0].set_title(f'digits covariance spectrum; linear AE k = {linear["k"]}: '
                    f'angle {linear["max_principal_angle"]:.1e} rad', fontsize=9)
  axes[0].set_xlabel('component')
  noise = summary['denoising']['noise_levels']
  for name, values in summary['denoising']['mse'].items():
    axes[1].plot(noise, values, 'o-', label=name)
  axes[1].axvline(summary['train_noise'], color='gray', ls=':', lw=0.8)
  axes[1].set_xlabel('noise std s')
  axes[1].set_ylabel('test MSE against the clean image')
  axes[1].set_yscale('log')
  axes[1].legend(fontsize=8)
  axes[1].set_title('MNIST-5k: reconstruction against noise', fontsize=9)
  save_figure(fig, workdir / 'autoencoders.png')

  examples = summary['denoising']['examples']
  fig, ax = plt.subplots(figsize=(8, 3.2))
  rows = np.concatenate([np.asarray(examples[k]).reshape(-1, 28, 28, 1)
                         for k in ('clean', 'noisy', 'denoised')])
  ax.imshow(image_grid(rows, len(examples['clean'])), cmap='gray_r', vmin=0, vmax=1)
  ax.set_title(f'clean / noisy (s = {summary["train_noise"]}) / denoised', fontsize=9)
  ax.axis('off')
  save_figure(fig, workdir / 'denoising_examples.png')
