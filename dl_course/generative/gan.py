"""Generative adversarial networks (Goodfellow et al. 2014) as pure functions:
MLP generator and discriminator, the discriminator's logistic loss, and the
generator's two losses —
  minimax         E log(1 - D(G(z)))   (saturates: no gradient while D wins),
  non-saturating  -E log D(G(z))       (the one used in practice).
`train(key)` runs the whole alternating optimisation as one `lax.scan`, so a
study can `vmap` it over seeds.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

GENERATOR_LOSSES = ('non_saturating', 'minimax')


class MLP(nn.Module):
  hidden: Sequence[int]
  out: int

  @nn.compact
  def __call__(self, x):
    for width in self.hidden:
      x = nn.leaky_relu(nn.Dense(width)(x), 0.2)
    return nn.Dense(self.out)(x)


def discriminator_loss(real_logits, fake_logits):
  """-E log D(x) - E log(1 - D(G(z))), with D = sigmoid(logit)."""
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss(fake_logits, kind: str):
  if kind == 'non_saturating':
    return jnp.mean(jax.nn.softplus(-fake_logits))
  return -jnp.mean(jax.nn.softplus(fake_logits))  # = E log(1 - D(G(z)))


def make_train(draw_data: Callable, *, data_dim: int, noise_dim: int, hidden: Sequence[int],
               generator_loss_kind: str, num_steps: int, batch_size: int,
               learning_rate: float, num_samples: int):
  """Returns train(key) -> (samples [num_samples, data_dim], losses [num_steps, 2]).
  draw_data(key, n) gives a batch of real data; step t uses fold_in(key, t)."""
  generator, discriminator = MLP(tuple(hidden), data_dim), MLP(tuple(hidden), 1)
  tx = optax.adam(learning_rate, b1=0.5)

  def train(key):
    g_key, d_key, loop_key, sample_key = jax.random.split(key, 4)
    g_params = generator.init(g_key, jnp.zeros((1, noise_dim)))['params']
    d_params = discriminator.init(d_key, jnp.zeros((1, data_dim)))['params']

    def step(carry, t):
      g_params, d_params, g_state, d_state = carry
      data_key, z_key, z_key2 = jax.random.split(jax.random.fold_in(loop_key, t), 3)
      real = draw_data(data_key, batch_size)
      fake = generator.apply({'params': g_params}, jax.random.normal(z_key, (batch_size, noise_dim)))

      def d_loss(d_params):
        logits = lambda x: discriminator.apply({'params': d_params}, x)[:, 0]
        return discriminator_loss(logits(real), logits(jax.lax.stop_gradient(fake)))

      d_value, d_grads = jax.value_and_grad(d_loss)(d_params)
      updates, d_state = tx.update(d_grads, d_state, d_params)
      d_params = optax.apply_updates(d_params, updates)

      def g_loss(g_params):
        fake = generator.apply({'params': g_params},
                               jax.random.normal(z_key2, (batch_size, noise_dim)))
        logits = discriminator.apply({'params': d_params}, fake)[:, 0]
        return generator_loss(logits, generator_loss_kind)

      g_value, g_grads = jax.value_and_grad(g_loss)(g_params)
      updates, g_state = tx.update(g_grads, g_state, g_params)
      g_params = optax.apply_updates(g_params, updates)
      return (g_params, d_params, g_state, d_state), jnp.stack([d_value, g_value])

    carry = (g_params, d_params, tx.init(g_params), tx.init(d_params))
    (g_params, _, _, _), losses = jax.lax.scan(step, carry, jnp.arange(num_steps))
    samples = generator.apply({'params': g_params},
                              jax.random.normal(sample_key, (num_samples, noise_dim)))
    return samples, losses

  return train


def mode_coverage(samples, modes, radius: float, min_share: float):
  """(modes covered, fraction of samples within `radius` of some mode, share per mode):
  a mode counts as covered when it holds at least `min_share` of the samples."""
  distances = jnp.linalg.norm(samples[:, None, :] - modes[None], axis=-1)
  nearest = jnp.argmin(distances, axis=1)
  close = jnp.min(distances, axis=1) <= radius
  shares = jnp.array([jnp.mean(close & (nearest == m)) for m in range(len(modes))])
  return jnp.sum(shares >= min_share), jnp.mean(close), shares
