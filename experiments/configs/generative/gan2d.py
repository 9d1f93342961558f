"""GAN on the 8-Gaussian ring: MLP generator and discriminator (3 x 128,
leaky ReLU), 8-dim noise, Adam 1e-4 (beta1 0.5), batch 256, 20,000
alternating steps, 8 seeds as one vmapped run; non-saturating and minimax
generator losses.

Command:
  python -m experiments.main --config=experiments/configs/generative/gan2d.py --workdir=/tmp/dl_course/generative_gan2d
Expected: reproduced 2 of 2 claims (non-saturating: 8 of 8 modes in all 8
seeds, 98.1 % of samples within 3 std of a mode; the minimax loss did as well
here, 8 of 8 and 97.6 %; ~20 min alone, 32 min beside other jobs).

Quick variant (CI): 4 seeds, 5,000 steps, non-saturating loss only.
  python -m experiments.main --config=experiments/configs/generative/gan2d.py:quick --workdir=/tmp/dl_course/generative_gan2d_quick
Expected: reproduced 2 of 2 claims (8 of 8 modes in every seed; 0.872 of the
samples within 3 std of a mode; ~2 min).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'gan2d',
      full=dict(optimizer=dict(learning_rate=1e-4), train=dict(num_steps=20_000, batch_size=256),
                num_seeds=8, hidden=(128, 128, 128), noise_dim=8, num_samples=2000,
                losses=('non_saturating', 'minimax')),
      # Modes covered (mean over seeds) may fall short of all by at most this; the
      # share of samples within 3 std of a mode.
      claim=dict(max_missing_modes=0.5, min_high_quality=0.8),
      quick=dict(train=dict(num_steps=5000), num_seeds=4, losses=('non_saturating',)))
