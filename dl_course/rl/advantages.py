"""Returns and advantages over a rollout [T, E], by reverse `lax.scan`.

`terminated` ends the value of the future (the MDP stopped); `done` (terminated
or truncated) cuts the sum between episodes. `next_values` are V(s'_t) of the
observation each step reached, before any auto-reset, so a time-limit
truncation bootstraps from the state it stopped in.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def gae(rewards, values, next_values, terminated, done, gamma: float, lam: float):
  """Generalised advantage estimates (Schulman et al. 2016) and the value
  targets A + V: A_t = delta_t + gamma lam (1 - done_t) A_{t+1}, with
  delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)."""
  deltas = rewards + gamma * (1.0 - terminated) * next_values - values

  def back(carry, inputs):
    delta, d = inputs
    advantage = delta + gamma * lam * (1.0 - d) * carry
    return advantage, advantage

  _, advantages = jax.lax.scan(back, jnp.zeros_like(deltas[0]), (deltas, done.astype(deltas.dtype)),
                               reverse=True)
  return advantages, advantages + values


def discounted_returns(rewards, done, gamma: float, bootstrap=None):
  """Reward-to-go G_t = r_t + gamma (1 - done_t) G_{t+1}, from `bootstrap` (0
  by default) after the last step: REINFORCE's return."""
  start = jnp.zeros_like(rewards[0]) if bootstrap is None else bootstrap

  def back(carry, inputs):
    r, d = inputs
    g = r + gamma * (1.0 - d) * carry
    return g, g

  _, returns = jax.lax.scan(back, start, (rewards, done.astype(rewards.dtype)), reverse=True)
  return returns
