"""Categorical VAE on binarised MNIST-5k: 20 latents x 10 classes, MLP
784-512-256 encoder and mirrored decoder, Adam 1e-3, batch 100, 10,000 steps,
temperature max(0.5, exp(-1e-4 t)); Gumbel-softmax and straight-through
Gumbel-softmax (Jang et al. 2017), judged by the discrete model's test ELBO
(10 samples per image); then the gradient-estimator variance, 200 draws.

Command:
  python -m experiments.main --config=experiments/configs/generative/gumbel.py --workdir=/tmp/dl_course/generative_gumbel
Expected: reproduced 4 of 4 claims (test -ELBO 123.25 Gumbel-softmax, 121.62
straight-through, target 130; gradient variance per logit 0.42 Gumbel-softmax,
0.89 straight-through, 644 REINFORCE (1,541x), 7.76 with the leave-one-out
baseline (18.6x); ~6 min).

Quick variant (CI): 2,000 steps, temperature max(0.5, exp(-3e-4 t)), 500 test images.
  python -m experiments.main --config=experiments/configs/generative/gumbel.py:quick --workdir=/tmp/dl_course/generative_gumbel_quick
Expected: reproduced 4 of 4 claims (test -ELBO 132.21 Gumbel-softmax, 133.79
straight-through, target 150; gradient variance 1,986x Gumbel-softmax's for
REINFORCE, 22.8x with the leave-one-out baseline; ~2 min).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'gumbel',
      full=dict(optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=10_000, batch_size=100, eval_every=1000), num_latents=20,
                num_classes=10, hidden=(512, 256), min_temperature=0.5, anneal_rate=1e-4,
                test_size=1000, eval_samples=10, num_draws=200, nll_target=130.0),
      # Gradient variance of REINFORCE, and of REINFORCE with a baseline, over
      # Gumbel-softmax's.
      claim=dict(min_reinforce_variance_ratio=10.0, min_baseline_variance_ratio=1.0),
      quick=dict(train=dict(num_steps=2000, eval_every=500), anneal_rate=3e-4, test_size=500,
                 nll_target=150.0))
