"""The semi-supervised VAE M2 of Kingma et al. (2014), as pure functions.

Generative model p(y) p(z) p(x|y,z): y uniform over the classes, z ~ N(0, I),
x Bernoulli. Inference q(y|x) (a classifier) and q(z|x,y). For a labelled
pair the bound is
  L(x, y) = E_q(z|x,y)[log p(x|y,z)] + log p(y) - KL(q(z|x,y) || p(z)),
for an unlabelled x the label is summed out under q(y|x):
  U(x) = sum_y q(y|x) L(x, y) + H(q(y|x)),
and the classifier, which U alone would train only indirectly, also gets
the labelled cross-entropy with weight alpha:
  loss = mean_unlabelled(-U) + mean_labelled(-L) + alpha * mean_labelled(-log q(y|x)).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dl_course.generative.vae import decoder_log_likelihood


class M2(nn.Module):
  data_dim: int
  num_classes: int
  latent_dim: int
  hidden: Sequence[int]
  likelihood: str = 'bernoulli'

  def setup(self):
    self.classifier_layers = [nn.Dense(w) for w in self.hidden]
    self.classifier_out = nn.Dense(self.num_classes)
    self.encoder_layers = [nn.Dense(w) for w in self.hidden]
    self.encoder_out = nn.Dense(2 * self.latent_dim)
    self.decoder_layers = [nn.Dense(w) for w in reversed(self.hidden)]
    self.decoder_out = nn.Dense(self.data_dim)
    if self.likelihood == 'gaussian':
      self.log_scale = self.param('log_scale', nn.initializers.zeros, (self.data_dim,))

  def classify(self, x):
    """Logits of q(y|x)."""
    h = x
    for layer in self.classifier_layers:
      h = nn.relu(layer(h))
    return self.classifier_out(h)

  def encode(self, x, y_one_hot):
    h = jnp.concatenate([x, y_one_hot], -1)
    for layer in self.encoder_layers:
      h = nn.relu(layer(h))
    mean, log_var = jnp.split(self.encoder_out(h), 2, -1)
    return mean, jnp.clip(log_var, -12.0, 8.0)

  def decode(self, z, y_one_hot):
    h = jnp.concatenate([z, y_one_hot], -1)
    for layer in self.decoder_layers:
      h = nn.relu(layer(h))
    return self.decoder_out(h)

  def log_likelihood(self, x, decoded):
    """log p(x|y,z) summed over dimensions: Bernoulli logits, or a Gaussian mean
    with a learned scale per dimension (M1+M2, where x is M1's latent code)."""
    return decoder_log_likelihood(x, decoded,
                                  None if self.likelihood == 'bernoulli' else self.log_scale)

  def __call__(self, x):
    y = jax.nn.one_hot(jnp.argmax(self.classify(x), -1), self.num_classes)
    mean, _ = self.encode(x, y)
    return self.decode(mean, y)


def labelled_bound(model: M2, params, x, y_one_hot, key):
  """L(x, y) per example, one reparameterised sample, KL in closed form."""
  variables = {'params': params}
  mean, log_var = model.apply(variables, x, y_one_hot, method=M2.encode)
  z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape)
  decoded = model.apply(variables, z, y_one_hot, method=M2.decode)
  log_px = model.apply(variables, x, decoded, method=M2.log_likelihood)
  kl = 0.5 * jnp.sum(jnp.exp(log_var) + mean ** 2 - 1.0 - log_var, -1)
  return log_px - math.log(model.num_classes) - kl


def unlabelled_bound(model: M2, params, x, key):
  """U(x) per example: every class's L(x, y), weighted by q(y|x), plus q's entropy."""
  log_q = jax.nn.log_softmax(model.apply({'params': params}, x, method=M2.classify), -1)
  classes = jnp.eye(model.num_classes)
  bounds = jax.vmap(lambda y, k: labelled_bound(model, params, x,
                                                jnp.broadcast_to(y, (x.shape[0], y.shape[0])), k),
                    out_axes=-1)(classes, jax.random.split(key, model.num_classes))
  q = jnp.exp(log_q)
  return jnp.sum(q * bounds, -1) - jnp.sum(q * log_q, -1)


def loss(model: M2, params, labelled_x, labels, unlabelled_x, key, alpha: float):
  key_l, key_u = jax.random.split(key)
  y = jax.nn.one_hot(labels, model.num_classes)
  supervised = -labelled_bound(model, params, labelled_x, y, key_l).mean()
  unsupervised = -unlabelled_bound(model, params, unlabelled_x, key_u).mean()
  logits = model.apply({'params': params}, labelled_x, method=M2.classify)
  cross_entropy = -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits, -1), -1))
  return unsupervised + supervised + alpha * cross_entropy
