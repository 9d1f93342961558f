"""Recurrent networks by hand: vanilla RNN, GRU and LSTM cells as pure functions
unrolled with lax.scan (held equal to Flax's cells in tests). Gradient reach
over 100 steps (hidden 32, batch 64, Gaussian inputs) for the vanilla RNN with
its recurrent weights x0.5, x1, x2, the GRU and the LSTM; then the hand-written
GRU in the MNIST-1D paper's layout (bidirectional, 12 units per direction, all
40 states into a linear head), Adam 1e-2 cosine-decayed, batch 100, 6,000 steps.

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/recurrent.py --workdir=/tmp/dl_course/fundamentals_recurrent
Expected: reproduced 4 of 4 claims (gradient at step 1 / step 100: vanilla
RNN 4.0e-17, x2 recurrent 4.4e+02, GRU / LSTM with keep-gate bias 3: 2.8e-02 /
8.1e-02 (bias 0: both below 1e-16); hand-written GRU on MNIST-1D 93.3 %,
>= 91 %, the paper's GRU figure).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/recurrent.py:quick --workdir=/tmp/dl_course/fundamentals_recurrent_quick
Expected: reproduced 4 of 4 claims (1,500 steps: MNIST-1D 92.7 %, >= 85 %;
the gradient claims are the full variant's; ~25 s).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'recurrent',
      full=dict(optimizer=dict(learning_rate=1e-2),
                train=dict(batch_size=100, num_steps=6000, eval_every=500), gradient_steps=100,
                gradient_batch=64, gradient_hidden=32, recurrent_scales=(0.5, 1.0, 2.0),
                gate_bias=3.0, classifier_cell='gru', hidden_size=12, target_accuracy=0.91),
      # The gradient reaching step 1 relative to step T: a vanilla RNN's vanishes below,
      # or with doubled recurrent weights explodes above, these bounds; GRU and LSTM
      # keep at least min_gated_reach and that many times the vanilla RNN's.
      claim=dict(max_vanilla_reach=1e-3, min_exploding_reach=10.0, min_gated_reach=1e-3,
                 min_gated_over_vanilla=100.0),
      quick=dict(train=dict(num_steps=1500), target_accuracy=0.85))
