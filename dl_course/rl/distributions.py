"""The two policy distributions, as pure functions of their parameters."""
from __future__ import annotations

import jax
import jax.numpy as jnp


def sample(discrete: bool, policy, key):
  if discrete:
    return jax.random.categorical(key, policy)
  mean, log_std = policy
  return mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)


def log_prob(discrete: bool, policy, action):
  if discrete:
    log_p = jax.nn.log_softmax(policy)
    return jnp.take_along_axis(log_p, action[..., None].astype(jnp.int32), -1)[..., 0]
  mean, log_std = policy
  z = (action - mean) / jnp.exp(log_std)
  return jnp.sum(-0.5 * z ** 2 - log_std - 0.5 * jnp.log(2 * jnp.pi), -1)


def entropy(discrete: bool, policy):
  if discrete:
    log_p = jax.nn.log_softmax(policy)
    return -jnp.sum(jnp.exp(log_p) * log_p, -1)
  _, log_std = policy
  return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), -1)
