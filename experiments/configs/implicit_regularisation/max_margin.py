"""Max-margin bias (Soudry et al. 2018): GD on unregularised logistic regression
over separable data turns toward the hard-margin SVM direction, at a 1/log t pace.

GD at step 1/β (β the loss's smoothness) from w = 0, float64; the SVM is an
exact QP (SLSQP). Normalised GD (step η∇L/L) and Adam run beside it.

Command:
  python -m experiments.main --config=experiments/configs/implicit_regularisation/max_margin.py --workdir=/tmp/dl_course/implicit_max_margin
Expected: reproduced 3 of 3 claims (GD cosine to the SVM >= 0.99; ||w(t)|| slope
per ln t within 15 % of ||w_svm||; normalised GD reaches cosine 0.99 first).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/implicit_regularisation/max_margin.py:quick --workdir=/tmp/dl_course/implicit_max_margin_quick
Expected: reproduced 3 of 3 claims (10x fewer GD steps).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'max_margin',
      full=dict(num_bulk=50, gd_steps=10_000_000, normalised_gd_steps=10_000,
                normalised_gd_learning_rate=0.1, adam_steps=1_000_000, adam_learning_rate=1e-3),
      claim=dict(min_cosine=0.99, norm_slope_ratio=(0.85, 1.15)),
      quick=dict(gd_steps=1_000_000, adam_steps=100_000))
