"""PPO on MinAtar Breakout (gymnax's 10x10x4 re-implementation of Young & Tian
2019): 16 envs x 128 steps, 4 epochs x 4 minibatches, Adam 5e-4 annealed,
gamma 0.99, lambda 0.95, clip 0.2, entropy 0.01; a tanh MLP 256-256 on the
flattened frame (no CNN: this is a CPU check that the pipeline learns a pixel
game, not a score chase); 1M steps, 2 seeds as one vmapped run (4 seeds
wedged jaxlib 0.10's CPU runtime every time here: WORKSPACE.md).

Command:
  python -m experiments.main --config=experiments/configs/rl/ppo_breakout_minatar.py --workdir=/tmp/dl_course/rl_ppo_breakout_minatar
Expected: reproduced 1 of 1 claims (mean return over the last 5 % of training
6.5 ± 0.03, seeds 6.47 and 6.53; random play ~0.4; ~5 min).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/rl/ppo_breakout_minatar.py:quick --workdir=/tmp/dl_course/rl_ppo_breakout_minatar_quick
Expected: reproduced 1 of 1 claims (300k steps: 6.4 ± 0.4, target 2; ~65 s).
"""
from experiments.configs.common import PPO_CLASSIC_CONTROL, rl_config


def get_config(arg=None):
  return rl_config(
      arg, 'ppo_breakout_minatar',
      full=dict(PPO_CLASSIC_CONTROL, optimizer=dict(learning_rate=5e-4), algorithm='ppo',
                env='Breakout-MinAtar',
                total_timesteps=1_000_000, num_seeds=2, num_envs=16, num_steps=128,
                num_minibatches=4, hidden_sizes=(256, 256), target_return=5.0,
                published='-', target_note='above random play (~0.4)'),
      quick=dict(total_timesteps=300_000, target_return=2.0))
