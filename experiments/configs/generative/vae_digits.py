"""VAE with a Gaussian decoder (learned per-pixel scale) on the 8x8 digits,
dequantised like the flows' data, so its L_k converts to bits/dim and sits
beside Glow's (generative_image_flows.py): MLP 64-256-256, 8 latents, Adam
1e-3, batch 64, 3,000 steps, L_k up to k = 5,000 on the 360 test images.
Training longer overfits the 1,437 training images: after 10,000 steps the test
bound is 3.13 bits/dim, not 2.75.

Command:
  python -m experiments.main --config=experiments/configs/generative/vae_digits.py --workdir=/tmp/dl_course/generative_vae_digits
Expected: checks 2 of 2 passed; reproduced 1 of 1 claims (L_1 51.94 ... L_1000 59.13, L_5000 59.61
nats per image: 2.744 bits/dim, target <= 3.0; ~40 s).

Quick variant (CI): L_k up to k = 1,000.
  python -m experiments.main --config=experiments/configs/generative/vae_digits.py:quick --workdir=/tmp/dl_course/generative_vae_digits_quick
Expected: checks 2 of 2 passed; reproduced 1 of 1 claims (L_1 51.94, L_10 56.23, L_100 58.11, L_1000
59.13 nats per image: 2.755 bits/dim, target <= 3.0; the independent-pixel
model's 2.435 is better, see WORKSPACE.md; ~20 s).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'vae_digits',
      full=dict(optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=3000, batch_size=64, eval_every=500), decoder='gaussian',
                latent_dim=8, hidden=(256, 256), test_size=360, iwae_ks=(1, 10, 100, 1000, 5000),
                num_samples=64, nll_target=3.0),
      # L_k may dip by at most this much as k grows (Monte Carlo noise).
      claim=dict(min_iwae_step=-0.05),
      quick=dict(iwae_ks=(1, 10, 100, 1000)))
