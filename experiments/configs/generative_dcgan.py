"""DCGAN on the 8x8 digits, judged by a classifier trained on the real digits
(classes covered, confidence, Fréchet distance of its features to the test
digits against independent pixels).

Command:
  python -m experiments.generative --config=experiments/configs/generative_dcgan.py --workdir=/tmp/dl_course/generative_dcgan
Expected: TBD

Quick variant (CI):
  python -m experiments.generative --config=experiments/configs/generative_dcgan.py:quick --workdir=/tmp/dl_course/generative_dcgan_quick
Expected: TBD
"""
from experiments.configs.implicit_common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'dcgan',
      full=dict(num_seeds=4, num_steps=4000, batch_size=64, noise_dim=32, learning_rate=2e-4,
                beta1=0.5, generator_channels=(64, 32), discriminator_channels=(32, 64),
                num_samples=2000, eval_every=100, judge_steps=2000,
                losses=('non_saturating', 'minimax')),
      quick=dict(num_seeds=2, num_steps=1500, losses=('non_saturating',)))
