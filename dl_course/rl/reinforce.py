"""REINFORCE (Williams 1992) with reward-to-go and a learned baseline.

Each update rolls out E environments for T steps with the current policy, then
takes one gradient step on

  - mean_t log pi(a_t | s_t) (G_t - V(s_t))  +  vf_coef mean_t (G_t - V(s_t))^2
  - ent_coef mean_t H[pi(. | s_t)],

where G_t is the discounted reward-to-go within the episode (`discounted_returns`,
cut at every episode end). An episode still running when the rollout stops, or
cut by the time limit, continues from V of the state it reached: with T at
least the episode limit that touches only the tail of each rollout. The
baseline V (the critic) lowers the variance without biasing the gradient.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from dl_course.config import check_number_list, check_range
from dl_course.rl import distributions
from dl_course.rl.algorithm import Algorithm
from dl_course.rl.on_policy import OnPolicySetup, OnPolicyState, episode_metrics


def validate(config) -> None:
  for key in ('total_timesteps', 'num_envs', 'num_steps'):
    check_range(config, key, 1, integer=True)
  for key in ('optimizer.learning_rate', 'max_grad_norm'):
    check_range(config, key, 0, low_open=True)
  check_range(config, 'gamma', 0, 1)
  for key in ('ent_coef', 'vf_coef'):
    check_range(config, key, 0)
  check_number_list(config, 'hidden_sizes', 1, integer=True)


def reward_to_go(traj, gamma: float):
  """G_t over a rollout [T, E]: the reward-to-go inside each episode; at a
  truncation or at the rollout's end the episode continues from V(s')."""
  truncated = traj['done'] & (traj['terminated'] == 0)
  # A truncated step's reward gets gamma V(s') added; the sum then restarts.
  rewards = traj['reward'] + gamma * jnp.where(truncated, traj['next_value'], 0.0)
  last = traj['next_value'][-1] * (1.0 - traj['done'][-1].astype(jnp.float32))

  def back(carry, inputs):
    r, d = inputs
    g = r + gamma * (1.0 - d) * carry
    return g, g

  _, returns = jax.lax.scan(back, last, (rewards, traj['done'].astype(jnp.float32)),
                            reverse=True)
  return returns


def make(config) -> Algorithm:
  setup = OnPolicySetup.from_config(config)
  network, discrete = setup.network, setup.discrete
  batch = config.num_envs * config.num_steps
  tx = optax.chain(optax.clip_by_global_norm(config.max_grad_norm),
                   optax.adam(config.optimizer.learning_rate))

  def loss_fn(params, traj, returns):
    policy, value = network.apply({'params': params}, traj['obs'])
    log_prob = distributions.log_prob(discrete, policy, traj['action'])
    advantage = jax.lax.stop_gradient(returns - value)
    policy_loss = -jnp.mean(log_prob * advantage)
    value_loss = jnp.mean((returns - value) ** 2)
    entropy = jnp.mean(distributions.entropy(discrete, policy))
    loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
    return loss, {'policy_loss': policy_loss, 'value_loss': value_loss, 'entropy': entropy}

  def update(state: OnPolicyState, _):
    state, traj = setup.rollout(state, jax.random.fold_in(state.key, state.update))
    returns = reward_to_go(traj, config.gamma)
    grads, info = jax.grad(loss_fn, has_aux=True)(state.params, traj, returns)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    state = state.replace(params=optax.apply_updates(state.params, updates),
                          opt_state=opt_state, update=state.update + 1)
    return state, {**info, **episode_metrics(traj)}

  return Algorithm(init=lambda key: setup.init(key, tx), update=update,
                   num_updates=config.total_timesteps // batch, steps_per_update=batch,
                   network=setup.network,
                   greedy=lambda state, obs: setup.greedy(state.params, obs))
