"""An MLP (one hidden layer of 128 ReLU units, dropout 0.1) for tabular data: by
default the 8x8 digits that scikit-learn ships (1,437 train / 360 test, pixels as
64 features), Adam 1e-3 with cosine decay, batch 64, 2,000 steps, 10 % of train
held out as validation.

Command:
  python -m experiments.main --config=experiments/configs/classify/mlp.py --workdir=/tmp/dl_course/mlp
Expected: test accuracy about 97 % (ours 97.2 %, seed 0; no claim is checked).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/classify/mlp.py:quick --workdir=/tmp/dl_course/mlp_quick
Expected: test accuracy above 90 % after 500 steps (ours 95.3 %).

Your own table, same config:
  --config.data.name=csv --config.data.dir=FILE.csv --config.data.label_column=species
      (features: every other numeric column, or --config.data.feature_columns='("a", "b")';
      an image-path column: --config.data.image_column=image --config.data.image_shape='(32, 32, 1)')
  --config.data.name=npz --config.data.dir=FILE.npz   (arrays x, y and optionally split)
A test split is drawn from train (--config.data.test_fraction, 0.2) where the data gives
none. Then: python -m experiments.evaluate --workdir=RUN --data=... scores it elsewhere.
"""
from experiments.configs.classify.common import tabular_classifier


def get_config(arg=None):
  return tabular_classifier(arg, {'name': 'mlp', 'hidden_sizes': (128,), 'dropout_rate': 0.1},
                            num_steps=2000, quick_steps=500)
