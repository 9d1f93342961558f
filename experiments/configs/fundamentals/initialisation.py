"""Tricks of the trade, initialisation: activation and gradient statistics per
layer of a 30-layer, width-256 MLP at initialisation (tanh and ReLU; Xavier,
He, orthogonal, too small, too large), on 512 standardised MNIST-1D signals.

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/initialisation.py --workdir=/tmp/dl_course/fundamentals_initialisation
Expected: reproduced 5 of 5 claims (activation std, layer 30 / layer 1: ReLU
He 0.90, ReLU Xavier 3.9e-5 (theory 2^-14.5 = 4.3e-5), ReLU too small 7.3e-14,
too large 2.1e+4; backpropagated error, layer 1 / layer 30: ReLU He 1.33, tanh
too small 1.4e-9, tanh too large 79; ~9 s).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/initialisation.py:quick --workdir=/tmp/dl_course/fundamentals_initialisation_quick
Expected: reproduced 5 of 5 claims (256 signals: the same figures to two
digits, e.g. ReLU He 0.92 and 1.32).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'initialisation', full=dict(train=dict(batch_size=512), depth=30, width=256),
      # Ratios of the last layer's to the first layer's activation std (and of the
      # backpropagated error's norm, first layer over last): kept near 1 by He init,
      # vanishing below or exploding above these bounds otherwise.
      claim=dict(he_activation_ratio=(0.5, 2.0), xavier_max_ratio=1e-2, vanish_max_ratio=1e-3,
                 explode_min_ratio=1e3, he_gradient_ratio=(0.2, 5.0),
                 tanh_explode_min_ratio=10.0),
      quick=dict(train=dict(batch_size=256)))
