"""gymnax environments, batched: E copies stepped as one vmapped function.

gymnax 1.0's `step` returns (obs, state, reward, terminated, truncated, info)
and resets a finished episode itself; `info['final_observation']` keeps the
observation the episode ended on, which a value function needs to bootstrap a
truncated (time-limit) episode.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types

import jax
import jax.numpy as jnp

from dl_course.errors import ConfigError

ENVIRONMENTS = ('CartPole-v1', 'Acrobot-v1', 'MountainCar-v0', 'Pendulum-v1', 'Breakout-MinAtar')


def make(name: str):
  """(env, env_params); a ConfigError naming the allowed ones for anything else."""
  if name not in ENVIRONMENTS:
    raise ConfigError('env', name, 'one of ' + ', '.join(ENVIRONMENTS))
  return _import_gymnax().make(name)


def _import_gymnax():
  """gymnax, imported here rather than at the top so that non-RL commands never pay for it.

  gymnax's package imports every environment, and its Pong imports seaborn,
  which imports scipy.stats and pandas: 1.5 of the 1.7 s gymnax takes to import
  on a 2-core CPU. Pong only draws with seaborn, so seaborn stands in as a
  `_DeferredModule` until something reads one of its attributes.
  """
  if 'seaborn' not in sys.modules and importlib.util.find_spec('seaborn') is not None:
    sys.modules['seaborn'] = _DeferredModule('seaborn')
  import gymnax
  return gymnax


class _DeferredModule(types.ModuleType):
  """A module that imports itself on the first attribute read that it lacks.

  The standard library's LazyLoader loads as soon as the import system reads
  `__spec__`, which `import seaborn` does in Python 3.11, so it defers nothing here.
  """

  def __init__(self, name: str):
    super().__init__(name)
    self.__spec__ = importlib.util.find_spec(name)

  def __getattr__(self, attribute: str):
    if sys.modules.get(self.__name__) is self:
      del sys.modules[self.__name__]
    return getattr(importlib.import_module(self.__name__), attribute)


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
