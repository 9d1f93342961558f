"""Autoencoders. Linear (k = 8 on the centred 8x8 digits, 3,000 full-batch
L-BFGS steps in float64) against PCA; denoising MLP autoencoder on MNIST-5k
(784-512-256-32-256-512-784, sigmoid output, Adam 1e-3, batch 128, 6,000
steps, trained at noise std 0.5) against the same network trained on clean
images and the rank-32 PCA projection, at noise std 0 ... 1.

Command:
  python -m experiments.main --config=experiments/configs/generative/autoencoders.py --workdir=/tmp/dl_course/generative_autoencoders
Expected: checks 2 of 2 passed; reproduced 2 of 2 claims (linear AE: largest principal angle 4.5e-6
rad, MSE above PCA's by 9.6e-11 relative; test MSE at noise 0 / 0.25 / 0.5 / 1:
denoising AE 0.0126 / 0.0135 / 0.0167 / 0.0347, plain AE 0.0109 / 0.0356 /
0.0687 / 0.0975, rank-32 PCA 0.0175 / 0.0201 / 0.0277 / 0.0583, the noisy input
0 / 0.0625 / 0.25 / 1.0; ~3.5 min).

Quick variant (CI): 1,500 steps, MLP 784-256-32.
  python -m experiments.main --config=experiments/configs/generative/autoencoders.py:quick --workdir=/tmp/dl_course/generative_autoencoders_quick
Expected: checks 2 of 2 passed; reproduced 2 of 2 claims (the same linear figures; at noise 0.5 the
denoising AE's MSE is 0.076 of the noisy input's and 0.68 of the better of the
plain AE (0.0483) and PCA (0.0277); ~50 s).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'autoencoders',
      full=dict(optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=6000, batch_size=128, eval_every=500), linear_latent_dim=8,
                lbfgs_steps=3000, hidden=(512, 256), latent_dim=32, train_noise=0.5,
                noise_levels=(0.0, 0.1, 0.25, 0.5, 0.75, 1.0)),
      # The linear AE's subspace and MSE against PCA (checks: equal up to L-BFGS's
      # tolerance); the denoising AE's MSE over the noisy input's and over the better
      # of the plain AE and PCA (findings).
      claim=dict(max_principal_angle=1e-3, max_pca_mse_gap=1e-6, max_denoising_ratio=0.2,
                 max_denoising_vs_best=0.9),
      quick=dict(train=dict(num_steps=1500), hidden=(256,)))
