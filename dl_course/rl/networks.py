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


class MLPTorso(nn.Module):
  hidden_sizes: Sequence[int]

  @nn.compact
  def __call__(self, x):
    x = x.reshape(x.shape[:-1] + (-1,)) if x.ndim > 1 else x
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

  def setup(self):
    self.actor = MLPTorso(self.hidden_sizes)
    self.policy_head = dense(self.num_actions, 0.01)
    self.critic = MLPTorso(self.hidden_sizes)
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
