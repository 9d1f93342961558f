"""gymnax environments, batched: E copies stepped as one vmapped function.

gymnax 1.0's `step` returns (obs, state, reward, terminated, truncated, info)
and resets a finished episode itself; `info['final_observation']` keeps the
observation the episode ended on, which a value function needs to bootstrap a
truncated (time-limit) episode.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from dl_course.errors import ConfigError

ENVIRONMENTS = ('CartPole-v1', 'Acrobot-v1', 'MountainCar-v0', 'Pendulum-v1', 'Breakout-MinAtar')


def make(name: str):
  """(env, env_params); a ConfigError naming the allowed ones for anything else."""
  if name not in ENVIRONMENTS:
    raise ConfigError('env', name, 'one of ' + ', '.join(ENVIRONMENTS))
  # Imported here, not at the top: gymnax takes ~2 s to import (it loads its
  # rendering stack), which every non-RL command would otherwise pay.
  import gymnax
  return gymnax.make(name)


def action_spec(env, env_params) -> tuple[bool, int, float]:
  """(discrete, number of actions or action dimensions, scale of a continuous action)."""
  from gymnax.environments import spaces
  space = env.action_space(env_params)
  if isinstance(space, spaces.Discrete):
    return True, int(space.n), 1.0
  return False, int(space.shape[0] if space.shape else 1), float(jnp.max(space.high))


def observation_rank(env, env_params) -> int:
  """Axes of one observation: 1 for the classic-control vectors, 3 for MinAtar frames."""
  return len(env.observation_space(env_params).shape)


def reset(env, env_params, key, num_envs: int):
  """Observations [E, ...] and states of E fresh episodes."""
  return jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), env_params)


def step(env, env_params, key, env_state, action_E):
  """One step of every copy: (obs, state, reward, terminated, done, final_obs)."""
  keys = jax.random.split(key, action_E.shape[0])
  obs, env_state, reward, terminated, truncated, info = jax.vmap(
      env.step, in_axes=(0, 0, 0, None))(keys, env_state, action_E, env_params)
  done = jnp.logical_or(terminated, truncated)
  return obs, env_state, reward, terminated, done, info['final_observation']


def track_episodes(running_return, reward, done):
  """Adds this step's reward to each copy's running return; returns (running
  return after resets, the return of each episode that ended here or 0, ended)."""
  total = running_return + reward
  return jnp.where(done, 0.0, total), jnp.where(done, total, 0.0), done
