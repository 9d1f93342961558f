"""Variational autoencoders (Kingma & Welling 2014) as pure functions: MLP
encoder q(z|x) = N(mu, diag sigma^2), standard-normal prior, and a Bernoulli
(binary pixels) or Gaussian (continuous pixels, learned per-pixel scale)
decoder; the ELBO, and the importance-weighted bound of Burda et al. (2016)
  L_k = E[log (1/k) sum_j p(x, z_j) / q(z_j|x)],  z_j ~ q(z|x),
which grows with k towards log p(x) (L_1 is the ELBO).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

DECODERS = ('bernoulli', 'gaussian')


class VAE(nn.Module):
  data_dim: int
  latent_dim: int
  hidden: Sequence[int]
  decoder: str = 'bernoulli'

  def setup(self):
    self.encoder_layers = [nn.Dense(w) for w in self.hidden]
    self.encoder_out = nn.Dense(2 * self.latent_dim)
    self.decoder_layers = [nn.Dense(w) for w in reversed(self.hidden)]
    self.decoder_out = nn.Dense(self.data_dim)
    if self.decoder == 'gaussian':
      self.log_scale = self.param('log_scale', nn.initializers.constant(-2.0), (self.data_dim,))

  def encode(self, x):
    h = x
    for layer in self.encoder_layers:
      h = nn.relu(layer(h))
    mean, log_var = jnp.split(self.encoder_out(h), 2, -1)
    return mean, jnp.clip(log_var, -12.0, 8.0)

  def decode(self, z):
    """Bernoulli logits, or the Gaussian's mean; [..., data_dim]."""
    h = z
    for layer in self.decoder_layers:
      h = nn.relu(layer(h))
    return self.decoder_out(h)

  def log_likelihood(self, x, decoded):
    """log p(x|z) summed over pixels."""
    return decoder_log_likelihood(x, decoded,
                                  None if self.decoder == 'bernoulli' else self.log_scale)

  def __call__(self, x):
    mean, log_var = self.encode(x)
    return self.decode(mean)


def decoder_log_likelihood(x, decoded, log_scale=None):
  """log p(x | decoder output) summed over the last axis: Bernoulli with logits
  `decoded` when log_scale is None, else Gaussian with mean `decoded` and a
  scale exp(log_scale) per dimension."""
  if log_scale is None:
    return -jnp.sum(jnp.logaddexp(0.0, decoded) - x * decoded, -1)
  return jnp.sum(-0.5 * ((x - decoded) * jnp.exp(-log_scale)) ** 2 - log_scale
                 - 0.5 * math.log(2 * math.pi), -1)


def _diag_normal_log_prob(z, mean, log_var):
  return jnp.sum(-0.5 * ((z - mean) ** 2 * jnp.exp(-log_var) + log_var + math.log(2 * math.pi)),
                 -1)


def log_weights(model: VAE, params, x, key, num_samples: int):
  """log p(x, z_j) - log q(z_j|x) for z_j ~ q(z|x): [num_samples, batch]."""
  variables = {'params': params}
  mean, log_var = model.apply(variables, x, method=VAE.encode)
  eps = jax.random.normal(key, (num_samples, *mean.shape))
  z = mean + jnp.exp(0.5 * log_var) * eps
  decoded = model.apply(variables, z, method=VAE.decode)
  log_px = model.apply(variables, x, decoded, method=VAE.log_likelihood)
  log_prior = _diag_normal_log_prob(z, 0.0, jnp.zeros_like(z))
  return log_px + log_prior - _diag_normal_log_prob(z, mean, log_var)


def elbo(model: VAE, params, x, key):
  """Single-sample ELBO per example, the KL term in closed form (lower variance)."""
  variables = {'params': params}
  mean, log_var = model.apply(variables, x, method=VAE.encode)
  z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape)
  decoded = model.apply(variables, z, method=VAE.decode)
  kl = 0.5 * jnp.sum(jnp.exp(log_var) + mean ** 2 - 1.0 - log_var, -1)
  return model.apply(variables, x, decoded, method=VAE.log_likelihood) - kl


def iwae_bounds(model: VAE, params, x, key, ks: Sequence[int], chunk: int = 100):
  """{k: mean over x of L_k} from max(ks) samples per example: for each k the
  samples are split into max(ks)/k disjoint groups and the group bounds
  averaged (every k must divide max(ks))."""
  total = max(ks)
  if any(total % k for k in ks) or total % min(chunk, total):
    raise ValueError(f'every k in {list(ks)} and the chunk must divide {total}')
  chunk = min(chunk, total)

  @jax.jit
  def weights_chunk(chunk_key):
    return log_weights(model, params, x, chunk_key, chunk)

  weights = jnp.concatenate([weights_chunk(jax.random.fold_in(key, i))
                             for i in range(total // chunk)])  # [total, batch]
  out = {}
  for k in ks:
    groups = weights.reshape(total // k, k, -1)
    out[k] = float(jnp.mean(logsumexp(groups, axis=1) - math.log(k)))
  return out
