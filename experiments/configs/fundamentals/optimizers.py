"""Optimizers by hand: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW
as Optax GradientTransformations, held to Optax's built-ins over 100 steps;
gradient descent vs heavy ball on a quadratic with condition number 100;
trajectories on Rosenbrock; an MLP 100-100 on MNIST-1D with each optimizer
(same weights and batches, batch 128, 4,000 steps).

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/optimizers.py --workdir=/tmp/dl_course/fundamentals_optimizers
Expected: checks 1 of 1 passed; reproduced 3 of 3 claims (ours vs Optax: max relative difference
4.3e-7, Adam, float32; quadratic to 1e-12 of its initial loss: GD 634 steps,
heavy ball 87, 7.3x, >= 5x; MNIST-1D after 4,000 steps: Adam's training loss
0.031 vs SGD's 0.080, best test accuracy 61.6 %, >= 58 %; the paper's MLP
reaches 68 % with its own recipe; ~1 min).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/optimizers.py:quick --workdir=/tmp/dl_course/fundamentals_optimizers_quick
Expected: checks 1 of 1 passed; reproduced 3 of 3 claims (1,000 MNIST-1D steps: Adam 0.634 vs SGD
0.870 training loss, best test accuracy 59.1 %, >= 45 %; ~40 s).
"""
from experiments.configs.common import study_config

ROSENBROCK_RATES = dict(sgd=1e-3, momentum=1e-3, nesterov=1e-3, adagrad=0.5, rmsprop=1e-2,
                        adam=0.05, adamw=0.05)
MNIST1D_RATES = dict(sgd=0.1, momentum=0.01, nesterov=0.01, adagrad=0.05, rmsprop=1e-3,
                     adam=1e-3, adamw=1e-3)


def get_config(arg=None):
  return study_config(
      arg, 'optimizers',
      full=dict(train=dict(batch_size=128, eval_every=200), equality_steps=100,
                condition_number=100.0, quadratic_dim=20, quadratic_max_steps=3000,
                quadratic_tolerance=1e-12, min_heavy_ball_speedup=5.0, rosenbrock_steps=5000,
                rosenbrock_learning_rates=ROSENBROCK_RATES, hidden_sizes=(100, 100),
                mnist1d_steps=4000, mnist1d_learning_rates=MNIST1D_RATES, target_accuracy=0.58),
      # Check: the hand-written optimizers against Optax (max relative difference).
      claim=dict(max_optax_difference=1e-6),
      quick=dict(train=dict(eval_every=100), mnist1d_steps=1000, target_accuracy=0.45))
