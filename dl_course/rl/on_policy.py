"""What PPO and REINFORCE share: the runner state and the rollout.

A rollout runs E environment copies for T steps under the current policy (one
`lax.scan`) and records, per step, what either algorithm needs: observation,
action, its log-probability, V(s), V(s') of the observation reached before any
auto-reset (the bootstrap for a time-limit truncation), reward, terminated and
done flags, and the returns of episodes that ended.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

from dl_course.rl import distributions, envs
from dl_course.rl.networks import ActorCritic


class OnPolicyState(struct.PyTreeNode):
  params: dict
  opt_state: tuple
  env_state: object
  obs: jax.Array
  running_return: jax.Array  # [E], of the episodes in progress
  key: jax.Array  # raw uint32 key: plain arrays checkpoint anywhere
  update: jax.Array  # updates done


@dataclasses.dataclass(frozen=True)
class OnPolicySetup:
  env: object
  env_params: object
  network: ActorCritic
  discrete: bool
  action_scale: float
  num_envs: int
  num_steps: int

  @classmethod
  def from_config(cls, config) -> 'OnPolicySetup':
    env, env_params = envs.make(config.env)
    discrete, num_actions, action_scale = envs.action_spec(env, env_params)
    network = ActorCritic(num_actions, discrete, tuple(config.hidden_sizes),
                          envs.observation_rank(env, env_params))
    return cls(env, env_params, network, discrete, action_scale, config.num_envs,
               config.num_steps)

  def greedy(self, params, obs):
    """The most likely action for one observation (discrete: argmax of the
    logits; continuous: the mean, clipped as in training)."""
    policy, _ = self.network.apply({'params': params}, obs[None])
    if self.discrete:
      return jnp.argmax(policy[0])
    return jnp.clip(policy[0][0], -self.action_scale, self.action_scale)

  def init(self, key, tx) -> OnPolicyState:
    init_key, env_key, run_key = jax.random.split(key, 3)
    obs, env_state = envs.reset(self.env, self.env_params, env_key, self.num_envs)
    params = self.network.init(init_key, obs)['params']
    return OnPolicyState(params, tx.init(params), env_state, obs, jnp.zeros(self.num_envs),
                         run_key, jnp.zeros((), jnp.int32))

  def rollout(self, state: OnPolicyState, key) -> tuple[OnPolicyState, dict]:
    """T steps of every copy: (state with the envs moved on, transitions {name: [T, E, ...]})."""
    def one(state, t):
      action_key, env_key = jax.random.split(jax.random.fold_in(key, t))
      policy, value = self.network.apply({'params': state.params}, state.obs)
      action = distributions.sample(self.discrete, policy, action_key)
      env_action = action if self.discrete else jnp.clip(action, -self.action_scale,
                                                         self.action_scale)
      obs, env_state, reward, terminated, done, final_obs = envs.step(
          self.env, self.env_params, env_key, state.env_state, env_action)
      next_value = self.network.apply({'params': state.params}, final_obs,
                                      method=ActorCritic.value)
      running, ended_return, ended = envs.track_episodes(state.running_return, reward, done)
      transition = dict(obs=state.obs, action=action,
                        log_prob=distributions.log_prob(self.discrete, policy, action),
                        value=value, next_value=next_value, reward=reward,
                        terminated=terminated.astype(jnp.float32), done=done,
                        ended_return=ended_return, ended=ended)
      return state.replace(env_state=env_state, obs=obs, running_return=running), transition
    return jax.lax.scan(one, state, jnp.arange(self.num_steps))


def episode_metrics(traj) -> dict:
  return {'episodes': traj['ended'].sum(), 'return_sum': traj['ended_return'].sum()}
