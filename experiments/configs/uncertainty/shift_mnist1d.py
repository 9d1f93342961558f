"""Calibration under additive Gaussian noise on MNIST-1D (1-D signals cannot
be rotated; noise at 0-2 standard deviations of the inputs plays the part of
Ovadia et al. 2019's shift intensities): MLP 40-256-256-10 on MNIST-1D (3,500
train, 500 validation for the temperature, 1,000 test). Softmax, temperature
scaling, MC dropout (p = 0.3, 50 masks), deep ensemble of 5; Adam 1e-3, batch 100.

Command:
  python -m experiments.main --config=experiments/configs/uncertainty/shift_mnist1d.py --workdir=/tmp/dl_course/uncertainty_shift_mnist1d
Expected: reproduced 6 of 6 claims. Ours (mean over noise 0.25-2): NLL softmax
9.52, temperature 4.11, MC dropout 3.76, ensemble 6.67; clean accuracy 62.3 /
62.3 / 70.5 / 66.1 % (an MLP: MNIST-1D's published MLP figure is 68 %).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/uncertainty/shift_mnist1d.py:quick --workdir=/tmp/dl_course/uncertainty_shift_mnist1d_quick
Expected: reproduced 6 of 6 claims (1,000 steps, four noise levels, 3 members;
ours: NLL under noise 6.45 / 4.21 / 2.65 / 5.07).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'dataset_shift_mnist1d',
      full=dict(data=dict(name='mnist1d'), optimizer=dict(learning_rate=1e-3),
                train=dict(batch_size=100, num_steps=3000), shift='noise',
                intensities=(0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0), validation_size=500,
                hidden_sizes=(256, 256), dropout_rate=0.3, mc_samples=50, ensemble_size=5,
                adversarial_fraction=0.0),
      quick=dict(train=dict(num_steps=1000), intensities=(0, 0.5, 1.0, 2.0), ensemble_size=3))
