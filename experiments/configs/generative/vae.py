"""VAE with a Bernoulli decoder on binarised MNIST-5k (re-binarised each
step): MLP 784-400-400 encoder, 50 latents, mirrored decoder, Adam 1e-3,
batch 100, 20,000 steps; test log-likelihood by the importance-weighted bound
L_k up to k = 5,000 on 1,000 test images (Burda et al. 2016's protocol).

Command:
  python -m experiments.main --config=experiments/configs/generative/vae.py --workdir=/tmp/dl_course/generative_vae
Expected: checks 2 of 2 passed; reproduced 2 of 2 claims (test L_k for k = 1, 10, 100, 1000, 5000:
-110.07, -103.89, -101.27, -99.82, -99.14 nats, so log p(x) >= -99.1; target
NLL <= 110; Burda et al.'s -86.76 is on 60k training images, ours overfits its 4k
(train ELBO -88.6 at the end); independent pixels 208.9 nats; ~5 min).

Quick variant (CI): 3,000 steps, 20 latents, k up to 500 on 500 test images.
  python -m experiments.main --config=experiments/configs/generative/vae.py:quick --workdir=/tmp/dl_course/generative_vae_quick
Expected: checks 2 of 2 passed; reproduced 2 of 2 claims (L_1 -109.87 ... L_500 -102.85 nats; target
NLL <= 125; ~40 s).

The Gaussian decoder has its own config: generative_vae_digits.py.
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'vae',
      full=dict(optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=20_000, batch_size=100, eval_every=1000), decoder='bernoulli',
                latent_dim=50, hidden=(400, 400), test_size=1000, iwae_ks=(1, 10, 100, 1000, 5000),
                num_samples=64, nll_target=110.0),
      # L_k may dip by at most this much as k grows (Monte Carlo noise); the VAE's
      # NLL over independent pixels' (Bernoulli decoder only).
      claim=dict(min_iwae_step=-0.05, max_pixel_ratio=0.8),
      quick=dict(train=dict(num_steps=3000, eval_every=500), latent_dim=20, hidden=(256, 256),
                 test_size=500, iwae_ks=(1, 10, 100, 500), nll_target=125.0))
