"""Deep Q-learning (Mnih et al. 2015), optionally Double DQN (van Hasselt et al. 2016).

The replay buffer is a ring of JAX arrays inside the runner state, so a whole
run is one pure function and a checkpoint holds the buffer too. The loop is
built from fixed-size pieces, with no `lax.cond` (under `vmap` over seeds a
cond runs both branches anyway):

  cycle  = train_frequency environment steps (a scan) + one gradient step
  update = cycles_per_update cycles (a scan); the runner logs per update.

Before `learning_starts` the gradient step is computed and discarded; the
target network is copied from the online one every target_update_interval
steps. Exploration is epsilon-greedy, epsilon falling linearly from start_e to
end_e over exploration_fraction of the run. Returns are those of the training
episodes, exploration included.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from dl_course.config import check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.rl import envs
from dl_course.rl.algorithm import Algorithm
from dl_course.rl.networks import flatten_observations


class QNetwork(nn.Module):
  num_actions: int
  hidden_sizes: tuple = (120, 84)
  obs_ndim: int = 1

  @nn.compact
  def __call__(self, obs):
    x = flatten_observations(obs, self.obs_ndim)
    for width in self.hidden_sizes:
      x = nn.relu(nn.Dense(width)(x))
    return nn.Dense(self.num_actions)(x)


class DQNState(struct.PyTreeNode):
  params: dict
  target_params: dict
  opt_state: tuple
  env_state: object
  obs: jax.Array
  running_return: jax.Array
  buffer: dict  # obs, action, reward, next_obs, terminated: [N, ...]
  buffer_next: jax.Array  # where the next transition goes
  buffer_size: jax.Array  # transitions held (<= N)
  key: jax.Array
  update: jax.Array
  steps: jax.Array  # environment steps taken, all copies together


def validate(config) -> None:
  for key in ('total_timesteps', 'num_envs', 'buffer_size', 'train.batch_size', 'train_frequency',
              'target_update_interval', 'cycles_per_update'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'learning_starts', 0, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'gamma', 0, 1)
  for key in ('start_e', 'end_e', 'exploration_fraction'):
    check_range(config, key, 0, 1)
  check_number_list(config, 'hidden_sizes', 1, integer=True)
  if config.env == 'Pendulum-v1':
    raise ConfigError('env', config.env, 'an environment with discrete actions for DQN')
  steps_per_update = config.num_envs * config.train_frequency * config.cycles_per_update
  if config.total_timesteps < steps_per_update:
    raise ConfigError('total_timesteps', config.total_timesteps,
                      f'at least one update, num_envs * train_frequency * cycles_per_update '
                      f'= {steps_per_update}')


def make(config) -> Algorithm:
  env, env_params = envs.make(config.env)
  _, num_actions, _ = envs.action_spec(env, env_params)
  network = QNetwork(num_actions, tuple(config.hidden_sizes),
                     envs.observation_rank(env, env_params))
  tx = optax.adam(config.optimizer.learning_rate)
  num_envs, capacity = config.num_envs, config.buffer_size
  steps_per_update = num_envs * config.train_frequency * config.cycles_per_update
  num_updates = config.total_timesteps // steps_per_update
  explore_steps = max(1.0, config.exploration_fraction * num_updates * steps_per_update)

  def init(key) -> DQNState:
    init_key, env_key, run_key = jax.random.split(key, 3)
    obs, env_state = envs.reset(env, env_params, env_key, num_envs)
    params = network.init(init_key, obs)['params']
    buffer = {'obs': jnp.zeros((capacity,) + obs.shape[1:], obs.dtype),
              'next_obs': jnp.zeros((capacity,) + obs.shape[1:], obs.dtype),
              'action': jnp.zeros(capacity, jnp.int32), 'reward': jnp.zeros(capacity),
              'terminated': jnp.zeros(capacity)}
    zero = jnp.zeros((), jnp.int32)
    return DQNState(params, params, tx.init(params), env_state, obs, jnp.zeros(num_envs),
                    buffer, zero, zero, run_key, zero, zero)

  def epsilon(steps):
    fraction = jnp.minimum(steps / explore_steps, 1.0)
    return config.start_e + fraction * (config.end_e - config.start_e)

  def env_step(state: DQNState, key):
    explore_key, random_key, env_key = jax.random.split(key, 3)
    q = network.apply({'params': state.params}, state.obs)
    explore = jax.random.uniform(explore_key, (num_envs,)) < epsilon(state.steps)
    action = jnp.where(explore, jax.random.randint(random_key, (num_envs,), 0, num_actions),
                       jnp.argmax(q, -1))
    obs, env_state, reward, terminated, done, final_obs = envs.step(
        env, env_params, env_key, state.env_state, action)
    slots = (state.buffer_next + jnp.arange(num_envs)) % capacity
    buffer = {**state.buffer}
    for name, value in (('obs', state.obs), ('next_obs', final_obs), ('action', action),
                        ('reward', reward), ('terminated', terminated.astype(jnp.float32))):
      buffer[name] = buffer[name].at[slots].set(value.astype(buffer[name].dtype))
    running, ended_return, ended = envs.track_episodes(state.running_return, reward, done)
    state = state.replace(env_state=env_state, obs=obs, running_return=running, buffer=buffer,
                          buffer_next=(state.buffer_next + num_envs) % capacity,
                          buffer_size=jnp.minimum(state.buffer_size + num_envs, capacity),
                          steps=state.steps + num_envs)
    return state, {'episodes': ended.sum(), 'return_sum': ended_return.sum()}

  def td_loss(params, target_params, batch):
    q = network.apply({'params': params}, batch['obs'])
    q_taken = jnp.take_along_axis(q, batch['action'][:, None], -1)[:, 0]
    next_target = network.apply({'params': target_params}, batch['next_obs'])
    if config.double_dqn:  # the online network picks, the target network scores
      pick = jnp.argmax(network.apply({'params': params}, batch['next_obs']), -1)
      next_value = jnp.take_along_axis(next_target, pick[:, None], -1)[:, 0]
    else:
      next_value = next_target.max(-1)
    target = batch['reward'] + config.gamma * (1.0 - batch['terminated']) * next_value
    loss = jnp.mean((q_taken - jax.lax.stop_gradient(target)) ** 2)
    return loss, {'td_loss': loss, 'q_mean': q_taken.mean()}

  def cycle(state: DQNState, key):
    step_keys = jax.random.split(key, config.train_frequency + 1)
    state, episodes = jax.lax.scan(env_step, state, step_keys[1:])
    index = jax.random.randint(step_keys[0], (config.train.batch_size,), 0,
                               jnp.maximum(state.buffer_size, 1))
    batch = jax.tree.map(lambda a: a[index], state.buffer)
    grads, info = jax.grad(td_loss, has_aux=True)(state.params, state.target_params, batch)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    learning = state.steps >= config.learning_starts

    def keep_unless(new, old, condition):
      return jax.tree.map(lambda n, o: jnp.where(condition, n, o), new, old)

    params = keep_unless(optax.apply_updates(state.params, updates), state.params, learning)
    opt_state = keep_unless(opt_state, state.opt_state, learning)
    # The copy happens on the cycle in which the step counter crosses a multiple of the interval.
    crossed = (state.steps // config.target_update_interval
               > (state.steps - num_envs * config.train_frequency) // config.target_update_interval)
    target_params = keep_unless(params, state.target_params, crossed)
    state = state.replace(params=params, opt_state=opt_state, target_params=target_params)
    return state, {**info, 'episodes': episodes['episodes'].sum(),
                   'return_sum': episodes['return_sum'].sum()}

  def update(state: DQNState, _):
    keys = jax.random.split(jax.random.fold_in(state.key, state.update), config.cycles_per_update)
    state, info = jax.lax.scan(cycle, state, keys)
    metrics = {'td_loss': info['td_loss'].mean(), 'q_mean': info['q_mean'].mean(),
               'epsilon': epsilon(state.steps), 'episodes': info['episodes'].sum(),
               'return_sum': info['return_sum'].sum()}
    return state.replace(update=state.update + 1), metrics

  def greedy(state, obs):
    return jnp.argmax(network.apply({'params': state.params}, obs[None])[0])

  return Algorithm(init=init, update=update, num_updates=num_updates,
                   steps_per_update=steps_per_update, network=network, greedy=greedy)
