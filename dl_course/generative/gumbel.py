"""Categorical latents: the Gumbel-softmax / Concrete relaxation (Jang et al.
2017; Maddison et al. 2017), its straight-through variant, and the score-
function (REINFORCE) estimator they replace, plus a VAE with N categorical
latents of K classes each.

  gumbel_softmax(logits, key, tau): softmax((logits + g) / tau), g ~ Gumbel(0, 1);
      as tau -> 0 the sample tends to the one-hot argmax, which is an exact
      sample of Categorical(softmax(logits)) (the Gumbel-max trick).
  straight_through: the one-hot argmax forward, the relaxed sample's gradient backward.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

ESTIMATORS = ('gumbel_softmax', 'straight_through')


def gumbel_softmax(logits, key, temperature: float):
  gumbel = jax.random.gumbel(key, logits.shape)
  return jax.nn.softmax((logits + gumbel) / temperature, axis=-1)


def straight_through(logits, key, temperature: float):
  soft = gumbel_softmax(logits, key, temperature)
  hard = jax.nn.one_hot(jnp.argmax(soft, -1), logits.shape[-1])
  return hard + soft - jax.lax.stop_gradient(soft)


def one_hot_sample(logits, key):
  return jax.nn.one_hot(jax.random.categorical(key, logits), logits.shape[-1])


def kl_to_uniform(logits):
  """KL(Categorical(softmax(logits)) || Uniform(K)), summed over the latents: [batch]."""
  log_q = jax.nn.log_softmax(logits, -1)
  return jnp.sum(jnp.exp(log_q) * (log_q + math.log(logits.shape[-1])), axis=(-2, -1))


class CategoricalVAE(nn.Module):
  """x [batch, D] binary -> encoder logits [batch, N, K]; one-hot codes -> Bernoulli logits."""
  data_dim: int
  num_latents: int
  num_classes: int
  hidden: Sequence[int]

  def setup(self):
    self.encoder_layers = [nn.Dense(w) for w in self.hidden]
    self.encoder_out = nn.Dense(self.num_latents * self.num_classes)
    self.decoder_layers = [nn.Dense(w) for w in reversed(self.hidden)]
    self.decoder_out = nn.Dense(self.data_dim)

  def encode(self, x):
    h = x
    for layer in self.encoder_layers:
      h = nn.relu(layer(h))
    return self.encoder_out(h).reshape(*x.shape[:-1], self.num_latents, self.num_classes)

  def decode(self, codes):
    h = codes.reshape(*codes.shape[:-2], self.num_latents * self.num_classes)
    for layer in self.decoder_layers:
      h = nn.relu(layer(h))
    return self.decoder_out(h)

  def __call__(self, x):
    return self.decode(jax.nn.one_hot(jnp.argmax(self.encode(x), -1), self.num_classes))


def bernoulli_log_likelihood(x, logits):
  return -jnp.sum(jnp.logaddexp(0.0, logits) - x * logits, -1)


def relaxed_elbo(model: CategoricalVAE, params, x, key, temperature, estimator: str):
  """The training objective per example: E log p(x | relaxed or straight-through code) - KL."""
  variables = {'params': params}
  logits = model.apply(variables, x, method=CategoricalVAE.encode)
  sampler = gumbel_softmax if estimator == 'gumbel_softmax' else straight_through
  codes = sampler(logits, key, temperature)
  decoded = model.apply(variables, codes, method=CategoricalVAE.decode)
  return bernoulli_log_likelihood(x, decoded) - kl_to_uniform(logits)


def discrete_elbo(model: CategoricalVAE, params, x, key, num_samples: int):
  """The ELBO of the discrete model itself (exact one-hot samples), averaged over samples."""
  variables = {'params': params}
  logits = model.apply(variables, x, method=CategoricalVAE.encode)
  codes = jax.vmap(lambda k: one_hot_sample(logits, k))(jax.random.split(key, num_samples))
  decoded = model.apply(variables, codes, method=CategoricalVAE.decode)
  return jnp.mean(bernoulli_log_likelihood(x, decoded), 0) - kl_to_uniform(logits)


def reconstruction_gradient_samples(model: CategoricalVAE, params, x, key, num_draws: int,
                                    estimator: str, temperature: float):
  """num_draws single-sample estimates of d/d(logits) E_q[log p(x|c)] for a batch x:
  [num_draws, batch, N, K]. `reinforce` is the score function f(c) d log q(c);
  `reinforce_baseline` subtracts the leave-one-out mean of f over the draws
  (still unbiased); the relaxed ones differentiate through the sample."""
  variables = {'params': params}
  logits = model.apply(variables, x, method=CategoricalVAE.encode)
  decode = lambda codes: model.apply(variables, codes, method=CategoricalVAE.decode)
  keys = jax.random.split(key, num_draws)

  if estimator in ('gumbel_softmax', 'straight_through'):
    sampler = gumbel_softmax if estimator == 'gumbel_softmax' else straight_through

    def one(k):
      return jax.grad(lambda l: bernoulli_log_likelihood(x, decode(sampler(l, k, temperature)))
                      .sum())(logits)
    return jax.lax.map(one, keys)

  def score(k):
    codes = one_hot_sample(logits, k)
    f = bernoulli_log_likelihood(x, decode(codes))  # [batch]
    # d log q(c) / d logits = c - softmax(logits), per latent
    return f, codes - jax.nn.softmax(logits, -1)

  values, scores = jax.lax.map(score, keys)
  if estimator == 'reinforce_baseline':
    baseline = (values.sum(0, keepdims=True) - values) / (num_draws - 1)
    values = values - baseline
  return values[:, :, None, None] * scores
