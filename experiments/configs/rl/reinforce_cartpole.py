"""REINFORCE with reward-to-go and a learned baseline on CartPole-v1: 1M
steps, 8 envs x 256 steps per update, one Adam step (1e-3) per update, gamma
0.99, entropy 0.01, tanh MLP 64-64; 8 seeds as one vmapped run. CartPole-v1 is
solved at an average return of 475.

Command:
  python -m experiments.main --config=experiments/configs/rl/reinforce_cartpole.py --workdir=/tmp/dl_course/rl_reinforce_cartpole
Expected: reproduced 1 of 1 claims (mean return over the last 5 % of updates,
averaged over 8 seeds, >= 475; ours 494.0 +/- 4.4 in 70 s on 2 cores; at
500k steps 427 +/- 50, and with Adam 3e-3 486 +/- 27).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/rl/reinforce_cartpole.py:quick --workdir=/tmp/dl_course/rl_reinforce_cartpole_quick
Expected: reproduced 1 of 1 claims (100k steps, 2 seeds, Adam 3e-3 to learn in
fewer steps: return >= 100, random play scores about 22; ours 258 +/- 9).
"""
from experiments.configs.common import rl_config


def get_config(arg=None):
  return rl_config(
      arg, 'reinforce_cartpole',
      full=dict(optimizer=dict(learning_rate=1e-3), algorithm='reinforce', env='CartPole-v1',
                total_timesteps=1_000_000, num_seeds=8, num_envs=8, num_steps=256, gamma=0.99,
                ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5, hidden_sizes=(64, 64),
                target_return=475.0, published='CartPole-v1 solved at 475 (Gymnasium)', target_note=''),
      quick=dict(optimizer=dict(learning_rate=3e-3), total_timesteps=100_000, num_seeds=2,
                 target_return=100.0, target_note='above random play (~22)'))
