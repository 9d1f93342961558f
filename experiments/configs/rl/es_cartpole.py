"""OpenAI-ES on CartPole-v1: population 64 (32 antithetic pairs), sigma 0.1,
Adam 0.03, one episode per member, tanh MLP 32, 100 generations; the return is
the unperturbed policy's over 8 episodes; 8 seeds as one vmapped run.
Environment steps count the population's full time limit (64 x 500 per
generation), an upper bound on what it simulates.

Command:
  python -m experiments.main --config=experiments/configs/rl/es_cartpole.py --workdir=/tmp/dl_course/rl_es_cartpole
Expected: reproduced 1 of 1 claims (mean return over the last 5 % of
generations, averaged over 8 seeds, >= 475; ours 500.0 +/- 0.0 in 50 s).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/rl/es_cartpole.py:quick --workdir=/tmp/dl_course/rl_es_cartpole_quick
Expected: reproduced 1 of 1 claims (30 generations, 2 seeds: return >= 150,
random play scores about 22; ours 500.0 +/- 0.0).
"""
from experiments.configs.common import rl_config


def get_config(arg=None):
  return rl_config(
      arg, 'es_cartpole',
      full=dict(optimizer=dict(learning_rate=0.03), algorithm='es', env='CartPole-v1',
                generations=100, population_size=64, sigma=0.1, weight_decay=0.005, eval_episodes=8,
                hidden_sizes=(32,), num_seeds=8, chunk_updates=25, target_return=475.0,
                published='CartPole-v1 solved at 475 (Gymnasium)', target_note=''),
      quick=dict(generations=30, num_seeds=2, chunk_updates=10, target_return=150.0,
                 target_note='above random play (~22)'))
