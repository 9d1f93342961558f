"""Policy and value networks (separate torsos, tanh, orthogonal init as in PPO's
reference implementation: policy head scaled 0.01, value head 1)."""
from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np


def dense(features: int, scale: float = np.sqrt(2)):
  return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale),
                  bias_init=nn.initializers.zeros)


def flatten_observations(x, obs_ndim: int):
  """[..., *obs_shape] -> [..., prod(obs_shape)]: frames (MinAtar's 10x10xC) become vectors."""
  return x.reshape(x.shape[:x.ndim - obs_ndim] + (-1,))


class MLPTorso(nn.Module):
  hidden_sizes: Sequence[int]
  obs_ndim: int = 1  # rank of one observation

  @nn.compact
  def __call__(self, x):
    x = flatten_observations(x, self.obs_ndim)
    for width in self.hidden_sizes:
      x = jnp.tanh(dense(width)(x))
    return x


class ActorCritic(nn.Module):
  """obs -> (policy parameters, value). Discrete: logits [A]; continuous: the
  Gaussian mean [A] and a state-independent log standard deviation [A].
  `value(obs)` evaluates the critic alone (bootstrapping needs no policy)."""
  num_actions: int
  discrete: bool
  hidden_sizes: Sequence[int] = (64, 64)
  obs_ndim: int = 1

  def setup(self):
    self.actor = MLPTorso(self.hidden_sizes, self.obs_ndim)
    self.policy_head = dense(self.num_actions, 0.01)
    self.critic = MLPTorso(self.hidden_sizes, self.obs_ndim)
    self.value_head = dense(1, 1.0)
    if not self.discrete:
      self.log_std = self.param('log_std', nn.initializers.zeros, (self.num_actions,))

  def value(self, obs):
    return self.value_head(self.critic(obs))[..., 0]

  def __call__(self, obs):
    policy = self.policy_head(self.actor(obs))
    if not self.discrete:
      policy = (policy, jnp.broadcast_to(self.log_std, policy.shape))
    return policy, self.value(obs)
