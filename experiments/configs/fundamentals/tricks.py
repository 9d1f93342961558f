"""Tricks of the trade: batch norm, dropout, early stopping, weight decay by
k-fold cross-validation, learning-rate schedules and gradient clipping on
MNIST-1D (MLPs of width 128; a vanilla RNN for clipping).

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/tricks.py --workdir=/tmp/dl_course/fundamentals_tricks
Expected: reproduced 8 of 8 claims (~2 min): 8-layer MLP at SGD lr 0.5 trains
to 9.9 % without batch norm (dead) and 98.2 % with it, running-average vs
test-batch statistics 0.7 pts apart; dropout 0.3 on width 256: test 69.5 vs
63.0 %, gap 29.9 vs 37.0 pts; early stopping at step 1,200 keeps step 700:
test loss 1.11 vs 1.72 overfitted (0.65x); 5-fold CV over L2 weight decay
{0, 1e-4, 3e-4, 1e-3, 3e-3} picks 3e-3 (CV 59.1 %), test 60.7 % vs the
grid's best 61.7 % (1e-3) and 59.6 % without; SGD at peak 0.2, final
training loss constant 0.60, step 0.010, cosine 3.1e-4, warm-up + cosine
2.4e-4; vanilla RNN: clip by global norm 1 reaches loss 1.12 (test 42.9 %),
unclipped 2.22 (15.6 %), clip by value 0.1 2.14.

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/tricks.py:quick --workdir=/tmp/dl_course/fundamentals_tricks_quick
Expected: reproduced 8 of 8 claims (~70 s; 3 folds over {0, 3e-4, 3e-3}:
CV picks 3e-3, test 60.8 % = the grid's best; RNN 1,000 steps: clipped /
unclipped loss 0.63; the rest as the full run).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'tricks',
      full=dict(train=dict(num_steps=3000, batch_size=100, eval_every=100), validation_size=800,
                width=128, dropout_width=256, deep_depth=8, bn_learning_rate=0.5,
                adam_learning_rate=1e-3, dropout_rate=0.3, patience=5, folds=5,
                weight_decays=(0.0, 1e-4, 3e-4, 1e-3, 3e-3), schedule_peak=0.2, rnn_hidden=64,
                rnn_steps=2000, rnn_learning_rate=0.01, clip_norm=1.0, clip_value=0.1),
      # Deep-MLP training accuracy without / with batch norm; batch norm's eval-mode
      # gap; dropout's test gain; early stopping's and the schedules' and clipping's
      # loss ratios; how far CV's choice may fall short of the grid's best.
      claim=dict(max_plain_deep_accuracy=0.3, min_batch_norm_accuracy=0.8,
                 max_eval_mode_gap=0.02, min_dropout_gain=0.03, max_early_stop_loss_ratio=0.8,
                 max_cv_regret=0.02, max_decay_loss_ratio=0.1, max_clipped_loss_ratio=0.8),
      quick=dict(folds=3, weight_decays=(0.0, 3e-4, 3e-3), rnn_steps=1000))
