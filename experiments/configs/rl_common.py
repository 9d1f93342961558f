"""Shared by the RL configs: the `quick` and `seed` arguments and the keys every
RL experiment has."""
import ml_collections

from experiments.configs.implicit_common import study_args

PPO_CLASSIC_CONTROL = dict(  # the standard small-scale PPO (CleanRL's ppo.py defaults)
    num_envs=4, num_steps=128, update_epochs=4, num_minibatches=4, learning_rate=2.5e-4,
    anneal_lr=True, gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.01, vf_coef=0.5,
    max_grad_norm=0.5, reward_scale=1.0, hidden_sizes=(64, 64))


def rl_config(arg, full: dict, quick: dict) -> ml_collections.ConfigDict:
  """`full` holds every key at the published scale; `quick` the keys it changes."""
  args = study_args(arg)
  config = ml_collections.ConfigDict({'seed': args.get('seed', 0), 'final_fraction': 0.05,
                                      'chunk_updates': 100, **full})
  if args.get('quick'):
    config.update(quick)
  return config
