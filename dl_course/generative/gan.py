"""Generative adversarial networks (Goodfellow et al. 2014) as pure functions:
MLP generator and discriminator, the discriminator's logistic loss, and the
generator's two losses —
  minimax         E log(1 - D(G(z)))   (saturates: no gradient while D wins),
  non-saturating  -E log D(G(z))       (the one used in practice).
`make_gan` gives the alternating optimisation as pure init / step / sample
functions for any pair of networks; `make_train` runs it for MLPs as one
`lax.scan`, so a study can `vmap` it over seeds. DCGenerator / DCDiscriminator
are DCGAN's convolutional pair (Radford et al. 2016) at small scale.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from dl_course.models.conv import Conv, ConvTranspose
from dl_course.models.mlp import MLP

GENERATOR_LOSSES = ('non_saturating', 'minimax')


def leaky_mlp(hidden: Sequence[int], out: int) -> MLP:
  """The MLP GAN's networks: leaky ReLU 0.2 between the layers."""
  return MLP(num_classes=out, hidden_sizes=tuple(hidden), activation='leaky_relu',
             leaky_slope=0.2)


def discriminator_loss(real_logits, fake_logits):
  """-E log D(x) - E log(1 - D(G(z))), with D = sigmoid(logit)."""
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss(fake_logits, kind: str):
  if kind == 'non_saturating':
    return jnp.mean(jax.nn.softplus(-fake_logits))
  return -jnp.mean(jax.nn.softplus(fake_logits))  # = E log(1 - D(G(z)))


class GAN(NamedTuple):
  """The alternating optimisation as pure pieces:
    init(key) -> carry                     (g_params, d_params, g_opt, d_opt)
    step(carry, t) -> (carry, [d_loss, g_loss])   step t draws with fold_in(key, t)
    sample(g_params, key, n) -> n generated examples
  `make_train` scans `step`; a conv GAN loops over the jitted step instead
  (XLA:CPU runs convolutions inside loops slowly)."""
  init: Callable
  step: Callable
  sample: Callable


def make_gan(draw_data: Callable, generator: nn.Module, discriminator: nn.Module, *,
             data_shape: Sequence[int], noise_dim: int, generator_loss_kind: str,
             batch_size: int, learning_rate: float, beta1: float = 0.5) -> GAN:
  """draw_data(key, n) gives n real examples of data_shape. The discriminator
  returns one logit per example ([n, 1]); both networks use Adam(lr, b1)."""
  tx = optax.adam(learning_rate, b1=beta1)
  noise = lambda key, n: jax.random.normal(key, (n, noise_dim))

  def sample(g_params, key, n):
    return generator.apply({'params': g_params}, noise(key, n))

  def init(key):
    g_key, d_key, loop_key, _ = jax.random.split(key, 4)  # the 4th: make_train's sample key
    g_params = generator.init(g_key, jnp.zeros((1, noise_dim)))['params']
    d_params = discriminator.init(d_key, jnp.zeros((1, *data_shape)))['params']
    return (g_params, d_params, tx.init(g_params), tx.init(d_params), loop_key)

  def step(carry, t):
    g_params, d_params, g_state, d_state, loop_key = carry
    data_key, z_key, z_key2 = jax.random.split(jax.random.fold_in(loop_key, t), 3)
    real = draw_data(data_key, batch_size)
    fake = sample(g_params, z_key, batch_size)

    def d_loss(d_params):
      logits = lambda x: discriminator.apply({'params': d_params}, x)[:, 0]
      return discriminator_loss(logits(real), logits(jax.lax.stop_gradient(fake)))

    d_value, d_grads = jax.value_and_grad(d_loss)(d_params)
    updates, d_state = tx.update(d_grads, d_state, d_params)
    d_params = optax.apply_updates(d_params, updates)

    def g_loss(g_params):
      logits = discriminator.apply({'params': d_params}, sample(g_params, z_key2, batch_size))
      return generator_loss(logits[:, 0], generator_loss_kind)

    g_value, g_grads = jax.value_and_grad(g_loss)(g_params)
    updates, g_state = tx.update(g_grads, g_state, g_params)
    g_params = optax.apply_updates(g_params, updates)
    return (g_params, d_params, g_state, d_state, loop_key), jnp.stack([d_value, g_value])

  return GAN(init, step, sample)


def make_train(draw_data: Callable, *, data_dim: int, noise_dim: int, hidden: Sequence[int],
               generator_loss_kind: str, num_steps: int, batch_size: int,
               learning_rate: float, num_samples: int):
  """MLP generator and discriminator, the whole run one scan: returns
  train(key) -> (samples [num_samples, data_dim], losses [num_steps, 2])."""
  gan = make_gan(draw_data, leaky_mlp(hidden, data_dim), leaky_mlp(hidden, 1),
                 data_shape=(data_dim,), noise_dim=noise_dim,
                 generator_loss_kind=generator_loss_kind, batch_size=batch_size,
                 learning_rate=learning_rate)

  def train(key):
    carry, losses = jax.lax.scan(gan.step, gan.init(key), jnp.arange(num_steps))
    return gan.sample(carry[0], jax.random.split(key, 4)[3], num_samples), losses

  return train


class BatchStandardise(nn.Module):
  """Batch normalisation in training mode only (statistics of the current batch,
  learned scale and shift, no running averages): a GAN's generator always
  runs on a batch of noise, so it never needs an eval mode."""

  @nn.compact
  def __call__(self, x):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axes), x.var(axes)
    scale = self.param('scale', nn.initializers.ones, (x.shape[-1],))
    bias = self.param('bias', nn.initializers.zeros, (x.shape[-1],))
    return (x - mean) * jax.lax.rsqrt(var + 1e-5) * scale + bias


class DCGenerator(nn.Module):
  """DCGAN's generator (Radford et al. 2016) at small scale: noise -> dense to
  a (H/2^k, W/2^k, C) map -> [transposed conv 4x4 stride 2 -> batch norm ->
  ReLU] ... -> conv 3x3 -> tanh, images in [-1, 1]."""
  image_shape: Sequence[int]
  channels: Sequence[int] = (64, 32)

  @nn.compact
  def __call__(self, z):
    height, width, out_channels = self.image_shape
    scale = 2 ** (len(self.channels) - 1)
    h = nn.Dense(height // scale * width // scale * self.channels[0])(z)
    h = h.reshape(z.shape[0], height // scale, width // scale, self.channels[0])
    h = nn.relu(BatchStandardise()(h))
    for channels in self.channels[1:]:
      h = ConvTranspose(channels, (4, 4), strides=(2, 2), padding='SAME')(h)
      h = nn.relu(BatchStandardise()(h))
    return jnp.tanh(Conv(out_channels, (3, 3), padding='SAME')(h))


class DCDiscriminator(nn.Module):
  """[conv 4x4 stride 2 -> leaky ReLU 0.2] per width, then one logit."""
  channels: Sequence[int] = (32, 64)

  @nn.compact
  def __call__(self, x):
    h = x
    for channels in self.channels:
      h = nn.leaky_relu(Conv(channels, (4, 4), strides=(2, 2), padding='SAME')(h), 0.2)
    return nn.Dense(1)(h.reshape(h.shape[0], -1))


def mode_coverage(samples, modes, radius: float, min_share: float):
  """(modes covered, fraction of samples within `radius` of some mode, share per mode):
  a mode counts as covered when it holds at least `min_share` of the samples."""
  distances = jnp.linalg.norm(samples[:, None, :] - modes[None], axis=-1)
  nearest = jnp.argmin(distances, axis=1)
  close = jnp.min(distances, axis=1) <= radius
  shares = jnp.array([jnp.mean(close & (nearest == m)) for m in range(len(modes))])
  return jnp.sum(shares >= min_share), jnp.mean(close), shares
