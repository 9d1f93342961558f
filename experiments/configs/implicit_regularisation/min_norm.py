"""Min-norm bias: GD from zero on underdetermined least squares converges to the
pseudo-inverse solution; from W0 to the solution nearest W0; Adam does not.

Problems: Gaussian X (100 x 400) and a wide linear model on real features (300
MNIST-1D signals, 3,000 random ReLU features, 10 one-hot outputs). GD runs at
step 1/λ_max for as many steps as the spectrum needs to shrink the error to
tolerance/100; float64.

Command:
  python -m experiments.main --config=experiments/configs/implicit_regularisation/min_norm.py --workdir=/tmp/dl_course/implicit_min_norm
Expected: checks 4 of 4 passed; reproduced 4 of 4 claims (GD relative error <= 1e-5 on both problems;
Adam interpolates but lands >= 5 % away from the min-norm solution; ours: 38-66 %).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/implicit_regularisation/min_norm.py:quick --workdir=/tmp/dl_course/implicit_min_norm_quick
Expected: checks 4 of 4 passed; reproduced 4 of 4 claims (50 x 200 and 100 x 500 problems).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'min_norm',
      full=dict(gaussian={'num_examples': 100, 'dim': 400},
                features={'dataset': 'mnist1d', 'num_examples': 300, 'dim': 3000},
                gd_tolerance=1e-5, adam_learning_rate=1e-2, adam_steps=20000),
      # Adam interpolates (residual / ||Y||) but lands measurably off the min-norm solution.
      claim=dict(max_adam_residual=1e-6, min_adam_distance=0.05),
      quick=dict(gaussian={'num_examples': 50, 'dim': 200},
                 features={'dataset': 'mnist1d', 'num_examples': 100, 'dim': 500},
                 adam_steps=5000))
