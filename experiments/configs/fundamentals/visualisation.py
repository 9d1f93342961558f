"""Seeing inside a CNN: a class-activation-map network (3x3 convolutions with
16-32-64 channels, max-pooling, global average pooling, linear) trained on
MNIST-5k (Adam 1e-3, batch 64, 1,500 steps); saliency and Grad-CAM on 500 test
digits (deletion test: the top 1 % of ink pixels by saliency vs as many random
ink pixels), Grad-CAM checked equal to CAM, activation maximisation per class,
first-layer filters.

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/visualisation.py --workdir=/tmp/dl_course/fundamentals_visualisation
Expected: checks 1 of 1 passed; reproduced 3 of 3 claims (test accuracy 94.8 %, >= 93 %; deletion:
p(true class) falls by 0.051 with saliency's pixels, 0.019 with random ink
pixels, 2.7x, >= 2x (Grad-CAM's coarse 7x7 maps: 0.019, no better than random at
this grain); Grad-CAM vs CAM 4.2e-7; class images classified as their class
with p >= 0.93. Reported, not claimed: the Grad-CAM peak lies within 2 px of the
digit's bounding box for 58.8 % of the test digits; ~2.5 min).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/visualisation.py:quick --workdir=/tmp/dl_course/fundamentals_visualisation_quick
Expected: checks 1 of 1 passed; reproduced 3 of 3 claims (600 steps: test accuracy 89.8 %, >= 88 %;
deletion 2.8x; Grad-CAM vs CAM 4.8e-7; 10 of 10 class images; ~65 s).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'visualisation',
      full=dict(optimizer=dict(learning_rate=1e-3),
                train=dict(batch_size=64, num_steps=1500, eval_every=500), channels=(16, 32, 64),
                num_explained=500, deletion_fractions=(0.01, 0.02, 0.05), deletion_fraction=0.01,
                pointing_radius=2, maximise_steps=300, target_accuracy=0.93,
                min_deletion_ratio=2.0),
      # Check: Grad-CAM equals CAM on a global-average-pooling network.
      claim=dict(max_grad_cam_difference=1e-4),
      quick=dict(train=dict(num_steps=600, eval_every=300), target_accuracy=0.88))
