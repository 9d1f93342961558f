"""CNNs on MNIST-5k: LeNet and a small ResNet; augmentation written in JAX
(random crop of the padded image, small rotation and translation) on a small
training set; transfer from digits 0-4 to 5-9 with few labels (from scratch,
linear probe, fine-tuning).

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/cnn.py --workdir=/tmp/dl_course/fundamentals_cnn
Expected: checks 1 of 1 passed; reproduced 4 of 4 claims (~3.5 min): LeNet (6, 16) 97.1 %, ResNet
(16, 32, 64, stride-2 stem) 97.4 % on MNIST-5k; LeNet on 1,000 images
92.4 % -> 96.0 % with augmentation (+3.6 pts); digits 5-9 (a LeNet
pretrained on 0-4 reaches 99.2 % there), from 1 / 3 / 10 labels per class:
from scratch 44.2 / 67.6 / 89.8 %, linear probe 50.4 / 64.2 / 83.0 %,
fine-tuning 53.4 / 66.6 / 90.4 %. Transfer helps only at 1 label per class
(one seed, one label draw): features learnt from five digit classes are
narrow, so beyond that the probe falls behind and fine-tuning ties scratch.

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/cnn.py:quick --workdir=/tmp/dl_course/fundamentals_cnn_quick
Expected: checks 1 of 1 passed; reproduced 4 of 4 claims (~1.5 min; LeNet 96.7 %, ResNet (8, 16,
32) 95.3 %, augmentation +3.9 pts, 1 label per class: fine-tuning 53.2 vs
scratch 43.6 %, probe 51.0 %).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'cnn',
      full=dict(optimizer=dict(learning_rate=1e-3),
                train=dict(num_steps=1500, batch_size=64, eval_every=100), lenet_channels=(6, 16),
                lenet_hidden=120, resnet_channels=(16, 32, 64), resnet_blocks=1, stem_stride=2,
                lenet_target=0.97, resnet_target=0.97, augment_train_size=1000, augment_steps=1500,
                crop_padding=2, max_degrees=15.0, max_shift=2.0, pretrain_steps=1000,
                labels_per_class=(1, 3, 10), transfer_steps=300),
      # Augmentation's test-accuracy gain; fine-tuning's margin over training from
      # scratch on the fewest labels.
      claim=dict(min_augment_gain=0.01, min_transfer_gain=0.05),
      quick=dict(train=dict(num_steps=600), resnet_channels=(8, 16, 32), lenet_target=0.95,
                 resnet_target=0.93, augment_steps=800, pretrain_steps=500, transfer_steps=200))
