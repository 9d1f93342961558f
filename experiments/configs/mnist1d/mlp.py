"""MNIST-1D, MLP 40-100-100-10 (ReLU), Adam lr 1e-2, batch 100, 6,000 steps.

Differs from the paper's recipe in two regularisers: dropout 0.2 and a cosine
learning-rate decay (71.4 % mean over seeds 0-2 here). The paper's exact recipe,
`--config.model.dropout_rate=0 --config.optimizer.schedule=constant`, gives
67.2 % (65.5-68.1 %) over the same seeds: the published 68 % is at its top.

Command:
  python -m experiments.main --config=experiments/configs/mnist1d/mlp.py --workdir=/tmp/dl_course/mnist1d_mlp
Expected: test accuracy >= 68 % (Greydanus & Kobak 2024, table 1: MLP 68 %).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/mnist1d/mlp.py:quick --workdir=/tmp/dl_course/mnist1d_mlp_quick
Expected: test accuracy >= 64 % (ours: 67.2 %, seed 0, 1,500-3,000 steps).

Bit-identical on 1, 2 or 4 devices (same metrics.jsonl and parameters): add
`--config.dispatch=groups` (the exact mode, dl_course/engine/groups.py; slower).
"""
from experiments.configs.common import mnist1d_config


def get_config(arg=None):
  config = mnist1d_config(arg, 'mnist1d_mlp', {'name': 'mlp', 'hidden_sizes': (100, 100), 'dropout_rate': 0.2},
                          paper_accuracy=0.68, quick_accuracy=0.64)
  config.optimizer.schedule = 'cosine'
  return config
