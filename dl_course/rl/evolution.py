"""OpenAI evolution strategies (Salimans et al. 2017).

The search distribution is N(theta, sigma^2 I) over the flat policy
parameters. Each generation draws P/2 noise vectors and uses both signs
(antithetic sampling), scores each of the P perturbed policies by the return of
one episode (all P episodes one vmap), replaces returns by centred ranks in
[-0.5, 0.5] (fitness shaping: invariant to the scale of the returns and robust
to outliers) and steps theta with Adam along

  g = 1 / (P sigma) sum_i rank_i epsilon_i   (ascent),

plus an L2 pull towards 0. The logged return is the unperturbed policy's, over
eval_episodes fresh episodes per generation. Deterministic policies: argmax of
the logits for discrete actions, tanh scaled to the action bound otherwise.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct
from jax.flatten_util import ravel_pytree

from dl_course.config import check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.rl import envs
from dl_course.rl.algorithm import Algorithm


class PolicyNetwork(nn.Module):
  num_actions: int
  hidden_sizes: tuple = (32,)

  @nn.compact
  def __call__(self, obs):
    x = obs.reshape(-1)
    for width in self.hidden_sizes:
      x = jnp.tanh(nn.Dense(width)(x))
    return nn.Dense(self.num_actions)(x)


class ESState(struct.PyTreeNode):
  theta: jax.Array  # flat policy parameters [D]
  opt_state: tuple
  key: jax.Array
  update: jax.Array


def validate(config) -> None:
  for key in ('generations', 'population_size', 'eval_episodes'):
    check_range(config, key, 1, integer=True)
  for key in ('sigma', 'optimizer.learning_rate'):
    check_range(config, key, 0, low_open=True)
  check_range(config, 'weight_decay', 0)
  check_number_list(config, 'hidden_sizes', 1, integer=True)
  if config.population_size % 2:
    raise ConfigError('population_size', config.population_size,
                      'an even number (antithetic pairs)')


def centred_ranks(values):
  """Ranks of `values` mapped linearly onto [-0.5, 0.5] (ties broken by order)."""
  ranks = jnp.argsort(jnp.argsort(values))
  return ranks / (values.shape[0] - 1) - 0.5


def make(config) -> Algorithm:
  env, env_params = envs.make(config.env)
  discrete, num_actions, action_scale = envs.action_spec(env, env_params)
  network = PolicyNetwork(num_actions, tuple(config.hidden_sizes))
  obs, _ = env.reset(jax.random.PRNGKey(0), env_params)
  _, unravel = ravel_pytree(network.init(jax.random.PRNGKey(0), obs)['params'])
  horizon = int(env_params.max_steps_in_episode)
  tx = optax.adam(config.optimizer.learning_rate)
  pairs = config.population_size // 2

  def act(params, obs):
    out = network.apply({'params': params}, obs)
    return jnp.argmax(out) if discrete else action_scale * jnp.tanh(out)

  def episode_return(theta, key):
    """The return of one episode (until the first done, at most the time limit)."""
    params = unravel(theta)
    reset_key, steps_key = jax.random.split(key)
    obs, env_state = env.reset(reset_key, env_params)

    def step(carry, step_key):
      obs, env_state, total, alive = carry
      obs, env_state, reward, terminated, truncated, _ = env.step(
          step_key, env_state, act(params, obs), env_params)
      total = total + alive * reward
      alive = alive * (1.0 - jnp.logical_or(terminated, truncated))
      return (obs, env_state, total, alive), None

    (_, _, total, _), _ = jax.lax.scan(step, (obs, env_state, 0.0, 1.0),
                                       jax.random.split(steps_key, horizon))
    return total

  def init(key) -> ESState:
    init_key, run_key = jax.random.split(key)
    theta, _ = ravel_pytree(network.init(init_key, obs)['params'])
    return ESState(theta, tx.init(theta), run_key, jnp.zeros((), jnp.int32))

  def update(state: ESState, _):
    noise_key, episodes_key, eval_key = jax.random.split(
        jax.random.fold_in(state.key, state.update), 3)
    half = jax.random.normal(noise_key, (pairs, state.theta.shape[0]))
    noise = jnp.concatenate([half, -half])
    fitness = jax.vmap(episode_return)(state.theta + config.sigma * noise,
                                       jax.random.split(episodes_key, config.population_size))
    ascent = centred_ranks(fitness) @ noise / (config.population_size * config.sigma)
    grad = -ascent + config.weight_decay * state.theta  # optax minimises
    updates, opt_state = tx.update(grad, state.opt_state, state.theta)
    theta = optax.apply_updates(state.theta, updates)
    evaluation = jax.vmap(episode_return, in_axes=(None, 0))(
        theta, jax.random.split(eval_key, config.eval_episodes))
    metrics = {'population_mean': fitness.mean(), 'population_max': fitness.max(),
               'episodes': jnp.asarray(config.eval_episodes), 'return_sum': evaluation.sum(),
               'param_norm': jnp.linalg.norm(theta)}  # for the NaN guard, as every loop logs
    return state.replace(theta=theta, opt_state=opt_state, update=state.update + 1), metrics

  return Algorithm(init=init, update=update, num_updates=config.generations,
                   steps_per_update=config.population_size * horizon, network=network,
                   greedy=lambda state, obs: act(unravel(state.theta), obs))
