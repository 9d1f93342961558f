"""Batch size and learning rate (Keskar et al. 2017; Jastrzębski et al. 2018):
plain SGD on MNIST-1D (4,000 signals), MLP 40-200-200-10, MSE loss, the
same number of epochs at every (η, B); each batch size's learning rates are one
vmapped run. Final sharpness and test accuracy against η/B.

MSE, not cross-entropy: under cross-entropy the sharpness keeps falling as the
loss goes to zero, so at equal epochs it mostly measures how far training got
(we measured ρ = +0.13 at 10 epochs and -0.74 at 60 with cross-entropy).
Ours (full): ρ(B, λ) = 1.0 at η = 0.01, 0.02, 0.05 and -0.4 at η = 0.1 (there
2/η = 20 is below the initial sharpness ~44, and every batch size catapults to a
flat region); ρ(η/B, λ) = -0.73 over 16 runs, driven more by η than by B; max
λ·η/2 = 0.66; test accuracy rises with η/B (ρ = 0.99) — at equal epochs the
small-η/B runs are also less trained, so that is not only a flatness effect.

Command:
  python -m experiments.main --config=experiments/configs/implicit_regularisation/batch_size_lr.py --workdir=/tmp/dl_course/implicit_batch_size_lr
Expected: reproduced 3 of 3 claims (at fixed η larger B ends sharper, median
Spearman ρ >= 0.8; sharpness falls with η/B, Spearman ρ <= -0.7;
every run ends with λ_max·η/2 <= 1.1). Test accuracy against η/B is in
summary.json and the figure, not a claim.

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/implicit_regularisation/batch_size_lr.py:quick --workdir=/tmp/dl_course/implicit_batch_size_lr_quick
Expected: reproduced 3 of 3 claims (2,000 signals, 20 epochs, 3 x 3 grid).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'batch_size_lr',
      full=dict(data=dict(name='mnist1d'), train=dict(epochs=40), num_train=4000, chunk_size=1000,
                loss='mse', model={'name': 'mlp', 'hidden_sizes': (200, 200)},
                learning_rates=(0.01, 0.02, 0.05, 0.1), batch_sizes=(16, 64, 256, 1024),
                steps_per_dispatch=250),
      # Spearman ρ(B, λ_max) at fixed η (median over η), ρ(η/B, λ_max), and the
      # largest λ_max·η/2 (GD's stability edge is 1).
      claim=dict(min_median_spearman_batch=0.8, max_spearman_ratio=-0.7,
                 max_sharpness_over_edge=1.1),
      quick=dict(train=dict(epochs=20), num_train=2000, learning_rates=(0.01, 0.02, 0.05),
                 batch_sizes=(16, 64, 256)))
