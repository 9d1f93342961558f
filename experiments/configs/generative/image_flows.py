"""Glow on sklearn's 8x8 digits (1,437 training images, 17 grey levels):
2 levels x 6 steps (ActNorm, invertible 1x1 convolution, affine coupling whose
scale and shift come from a 3x3-1x1-3x3 CNN of width 64), uniform
dequantisation, Adam 1e-3 with warm-up and cosine decay, batch 64, 1,000
steps. Test bits/dim of the 360 test images against the independent-pixel
model (2.435) and uniform (log2 17 = 4.087). Longer training overfits the
1,437 images: with 3,000 steps the test curve bottoms out at 2.131 after 750
steps and ends at 2.216 (train 1.793).

Command:
  python -m experiments.main --config=experiments/configs/generative/image_flows.py --workdir=/tmp/dl_course/generative_image_flows
Expected: reproduced 2 of 2 claims (test 2.122 bits/dim, train 1.975; 0.871 of
the independent-pixel model's; targets 2.2 and 0.9; ~1.5 min).

Quick variant (CI): 4 steps per level.
  python -m experiments.main --config=experiments/configs/generative/image_flows.py:quick --workdir=/tmp/dl_course/generative_image_flows_quick
Expected: reproduced 2 of 2 claims (test 2.143 bits/dim, 0.880 of the
independent-pixel model's; targets 2.3 and 0.92; ~2 min).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'image_flows',
      full=dict(data=dict(name='digits'), optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=1000, batch_size=64, eval_every=250), style='glow', levels=2,
                steps=6, hidden=64, num_samples=64, bits_target=2.2, baseline_ratio_target=0.9),
      quick=dict(steps=4, bits_target=2.3, baseline_ratio_target=0.92))
