"""Proximal policy optimisation (Schulman et al. 2017), clipped objective, GAE.

`make_ppo(config)` returns an `Algorithm`: `init(key)` builds the runner state
and `run(state, num_updates)` does that many updates as one `lax.scan`: each a
rollout of num_steps x num_envs transitions (a scan), GAE (a reverse scan),
then update_epochs passes over num_minibatches shuffled minibatches (nested
scans). The runner state holds everything a run needs, keys included, so a run
cut into chunks of updates and resumed from a checkpoint is the same run.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from dl_course.config import check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.rl import distributions
from dl_course.rl.advantages import gae
from dl_course.rl.algorithm import Algorithm
from dl_course.rl.on_policy import OnPolicySetup, OnPolicyState, episode_metrics


def validate(config) -> None:
  for key in ('total_timesteps', 'num_envs', 'num_steps', 'update_epochs', 'num_minibatches'):
    check_range(config, key, 1, integer=True)
  for key in ('optimizer.learning_rate', 'max_grad_norm', 'clip_eps', 'reward_scale'):
    check_range(config, key, 0, low_open=True)
  for key in ('gamma', 'gae_lambda'):
    check_range(config, key, 0, 1)
  for key in ('ent_coef', 'vf_coef'):
    check_range(config, key, 0)
  check_number_list(config, 'hidden_sizes', 1, integer=True)
  batch = config.num_envs * config.num_steps
  if batch % config.num_minibatches:
    raise ConfigError('num_minibatches', config.num_minibatches,
                      f'a divisor of num_envs * num_steps = {batch}')
  if config.total_timesteps < batch:
    raise ConfigError('total_timesteps', config.total_timesteps,
                      f'at least one rollout, num_envs * num_steps = {batch}')


def make(config) -> Algorithm:
  setup = OnPolicySetup.from_config(config)
  network, discrete = setup.network, setup.discrete
  batch = config.num_envs * config.num_steps
  num_updates = config.total_timesteps // batch
  minibatch = batch // config.num_minibatches
  if config.anneal_lr:  # linear to 0 over the run, counted in optimizer steps
    learning_rate = optax.linear_schedule(
        config.optimizer.learning_rate, 0.0,
        num_updates * config.update_epochs * config.num_minibatches)
  else:
    learning_rate = config.optimizer.learning_rate
  tx = optax.chain(optax.clip_by_global_norm(config.max_grad_norm),
                   optax.adam(learning_rate, eps=1e-5))

  def init(key) -> OnPolicyState:
    return setup.init(key, tx)

  def loss_fn(params, mb):
    policy, value = network.apply({'params': params}, mb['obs'])
    log_prob = distributions.log_prob(discrete, policy, mb['action'])
    ratio = jnp.exp(log_prob - mb['log_prob'])
    advantage = (mb['advantage'] - mb['advantage'].mean()) / (mb['advantage'].std() + 1e-8)
    policy_loss = -jnp.mean(jnp.minimum(
        ratio * advantage,
        jnp.clip(ratio, 1 - config.clip_eps, 1 + config.clip_eps) * advantage))
    # The value loss is clipped around the rollout's values, as in the reference code.
    clipped = mb['value'] + jnp.clip(value - mb['value'], -config.clip_eps, config.clip_eps)
    value_loss = 0.5 * jnp.mean(jnp.maximum((value - mb['target']) ** 2,
                                            (clipped - mb['target']) ** 2))
    entropy = jnp.mean(distributions.entropy(discrete, policy))
    loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
    return loss, {'policy_loss': policy_loss, 'value_loss': value_loss, 'entropy': entropy,
                  'clip_fraction': jnp.mean(jnp.abs(ratio - 1) > config.clip_eps)}

  def minibatch_step(carry, mb):
    params, opt_state = carry
    grads, info = jax.grad(loss_fn, has_aux=True)(params, mb)
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), info

  def epoch(carry, epoch_key):
    flat = carry[2]
    order = jax.random.permutation(epoch_key, batch)
    shuffled = jax.tree.map(lambda a: a[order].reshape((config.num_minibatches, minibatch)
                                                       + a.shape[1:]), flat)
    (params, opt_state), info = jax.lax.scan(minibatch_step, carry[:2], shuffled)
    return (params, opt_state, flat), info

  def update(state: OnPolicyState, _):
    key = jax.random.fold_in(state.key, state.update)
    rollout_key, epochs_key = jax.random.split(key)
    state, traj = setup.rollout(state, rollout_key)
    # Learning sees rewards times reward_scale (values of order one); episode returns stay raw.
    advantage, target = gae(config.reward_scale * traj['reward'], traj['value'], traj['next_value'],
                            traj['terminated'], traj['done'], config.gamma, config.gae_lambda)
    flat = {k: traj[k].reshape((batch,) + traj[k].shape[2:])
            for k in ('obs', 'action', 'log_prob', 'value')}
    flat.update(advantage=advantage.reshape(batch), target=target.reshape(batch))
    (params, opt_state, _), info = jax.lax.scan(
        epoch, (state.params, state.opt_state, flat),
        jax.random.split(epochs_key, config.update_epochs))
    state = state.replace(params=params, opt_state=opt_state, update=state.update + 1)
    metrics = {k: v.mean() for k, v in info.items()}
    metrics.update(episode_metrics(traj))
    return state, metrics

  return Algorithm(init=init, update=update, num_updates=num_updates,
                   steps_per_update=batch, network=network,
                   greedy=lambda state, obs: setup.greedy(state.params, obs))
