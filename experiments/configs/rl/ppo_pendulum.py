"""PPO on Pendulum-v1 (continuous torque): Gaussian policy with a learned,
state-independent log standard deviation, actions clipped to [-2, 2];
8 envs x 256 steps, 10 epochs x 32 minibatches, Adam 3e-4 annealed, gamma 0.95,
lambda 0.95, clip 0.2, no entropy bonus, rewards scaled by 0.1 for learning;
1M steps, 8 seeds as one vmapped run.
Reference: gymnax's published Pendulum-v1 checkpoint returns about -130.

Command:
  python -m experiments.main --config=experiments/configs/rl/ppo_pendulum.py --workdir=/tmp/dl_course/rl_ppo_pendulum
Expected: reproduced 1 of 1 claims (mean return over the last 5 % of updates,
averaged over 8 seeds, >= -175; ours -156.4 +/- 7.0, seeds -146 to -165, in
3 min 13 s on 2 cores). These are the training episodes' returns, actions
sampled from the Gaussian policy; gymnax's -130 is its trained policy's.

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/rl/ppo_pendulum.py:quick --workdir=/tmp/dl_course/rl_ppo_pendulum_quick
Expected: reproduced 1 of 1 claims (200k steps, 2 seeds: return >= -400, a
random policy scores about -1,200; ours -168.2 +/- 0.3 in 23 s).
"""
from experiments.configs.common import PPO_CLASSIC_CONTROL, rl_config


def get_config(arg=None):
  return rl_config(
      arg, 'ppo_pendulum',
      full=dict(PPO_CLASSIC_CONTROL, optimizer=dict(learning_rate=3e-4), algorithm='ppo',
                env='Pendulum-v1',
                total_timesteps=1_000_000, num_seeds=8, num_envs=8, num_steps=256, update_epochs=10,
                num_minibatches=32, gamma=0.95, ent_coef=0.0, reward_scale=0.1,
                target_return=-175.0, published='~-130 (gymnax checkpoint)', target_note=''),
      quick=dict(total_timesteps=200_000, num_seeds=2, target_return=-400.0,
                 target_note='above random play (~-1200)'))
