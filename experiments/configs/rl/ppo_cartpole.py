"""PPO on CartPole-v1 with the standard small-scale settings: 500k steps,
4 envs x 128 steps, 4 epochs x 4 minibatches, Adam 2.5e-4 annealed to 0,
gamma 0.99, lambda 0.95, clip 0.2, entropy 0.01, tanh MLP 64-64; 8 seeds as one
vmapped run. Reference: CleanRL's ppo.py documents 492 +/- 13 with these settings.

Command:
  python -m experiments.main --config=experiments/configs/rl/ppo_cartpole.py --workdir=/tmp/dl_course/rl_ppo_cartpole
Expected: reproduced 1 of 1 claims (mean return over the last 5 % of updates,
averaged over 8 seeds, >= 480; ours 500.0 +/- 0.0 in 46 s on 2 cores). This is
the row `launch.reproduce rl` (CI) runs: a published figure checked at its own
scale.

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/rl/ppo_cartpole.py:quick --workdir=/tmp/dl_course/rl_ppo_cartpole_quick
Expected: reproduced 1 of 1 claims (100k steps, 2 seeds: return >= 150, above
random play's ~22; ours 228 +/- 9).
"""
from experiments.configs.common import PPO_CLASSIC_CONTROL, rl_config


def get_config(arg=None):
  return rl_config(
      arg, 'ppo_cartpole',
      full=dict(algorithm='ppo', env='CartPole-v1', total_timesteps=500_000, num_seeds=8,
                target_return=480.0, published='492 ± 13 (CleanRL ppo.py)',
                target_note='', **PPO_CLASSIC_CONTROL),
      quick=dict(total_timesteps=100_000, num_seeds=2, target_return=150.0,
                 target_note='above random play (~22)'))
