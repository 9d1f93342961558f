"""DQN on CartPole-v1 with the usual small-scale settings (those of CleanRL's
dqn.py): 500k steps, one environment, replay buffer 10k, batch 128, Adam 2.5e-4,
gamma 0.99, a gradient step every 10 steps from step 10k, target network copied
every 500 steps, epsilon 1 -> 0.05 over the first half; ReLU MLP 120-84; 8 seeds
as one vmapped run. Returns are the training episodes' (epsilon-greedy).

Command:
  python -m experiments.main --config=experiments/configs/rl/dqn_cartpole.py --workdir=/tmp/dl_course/rl_dqn_cartpole
Expected: reproduced 1 of 1 claims (mean return over the last 5 % of updates,
averaged over 8 seeds, >= 400; ours 468.4 +/- 50.4, about 2 min on 2 cores).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/rl/dqn_cartpole.py:quick --workdir=/tmp/dl_course/rl_dqn_cartpole_quick
Expected: reproduced 1 of 1 claims (100k steps, 2 seeds: return >= 100, random
play scores about 22; ours 304.5 +/- 51.7).
"""
from experiments.configs.common import rl_config


def get_config(arg=None):
  return rl_config(
      arg, 'dqn_cartpole',
      full=dict(optimizer=dict(learning_rate=2.5e-4), train=dict(batch_size=128), algorithm='dqn',
                env='CartPole-v1', total_timesteps=500_000, num_seeds=8, num_envs=1,
                buffer_size=10_000, gamma=0.99, train_frequency=10, learning_starts=10_000,
                target_update_interval=500, start_e=1.0, end_e=0.05, exploration_fraction=0.5,
                double_dqn=False, hidden_sizes=(120, 84), cycles_per_update=50, target_return=400.0,
                published='CartPole-v1 solved at 475 (Gymnasium)',
                target_note='epsilon-greedy episodes'),
      quick=dict(total_timesteps=100_000, num_seeds=2, target_return=100.0,
                 target_note='above random play (~22)'))
