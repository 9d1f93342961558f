"""Glow on MNIST-5k (4,000 training images; 28x28, 256 levels): 2 levels x 4
steps (ActNorm, invertible 1x1 convolution, affine coupling with a CNN of
width 64), uniform dequantisation, Adam 1e-3 with warm-up and cosine decay,
batch 32, 8,000 steps: a CPU-sized Glow (the paper's MNIST model is 3 levels x
32 steps of width 512 on 60k images: 1.05 bits/dim). Against the
independent-pixel model (1.768 bits/dim: most MNIST pixels are 0) and
uniform (8).

Command:
  python -m experiments.main --config=experiments/configs/generative/image_flows_mnist.py --workdir=/tmp/dl_course/generative_image_flows_mnist
Expected: reproduced 2 of 2 claims (test 1.683 bits/dim, train 1.669: 0.952 of
the independent-pixel model's; targets 1.75 and 0.97; still improving slowly
(1.865 after 2,000 steps, 1.726 after 4,000); samples are stroke fragments,
not digits; ~14 min).

Quick variant (CI): 200 steps: training is under way, not finished.
  python -m experiments.main --config=experiments/configs/generative/image_flows_mnist.py:quick --workdir=/tmp/dl_course/generative_image_flows_mnist_quick
Expected: reproduced 2 of 2 claims (2.676 bits/dim after 200 steps, 1.51 times
the independent-pixel model's; targets 3.0 and 1.7; ~70 s).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'image_flows_mnist',
      full=dict(data=dict(name='mnist5k'), optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=8000, batch_size=32, eval_every=500), style='glow', levels=2,
                steps=4, hidden=64, num_samples=64, bits_target=1.75, baseline_ratio_target=0.97),
      quick=dict(train=dict(num_steps=200, eval_every=100), bits_target=3.0,
                 baseline_ratio_target=1.7))
