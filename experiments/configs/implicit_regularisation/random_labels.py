"""Random labels (Zhang et al. 2017): an MLP with two hidden layers of 512 fits
its training set whatever fraction p of the labels is random; test accuracy
falls to chance and fitting takes longer once labels are random. Adam, lr 1e-3,
batch 100; the five runs (p = 0, .2, .5, .8, 1) are one vmapped function.

Full: 4,000 MNIST-5k images (28x28). Ours: steps to fit 100 / 250 / 275 / 300 /
225 on 1,000 images; note p = 1 fits a little faster than p = 0.8 here (labels
that are all random do not fight a learnable signal), so the claim is that every
p > 0 is slower than p = 0, and p = 1 at least 2x slower.

Command:
  python -m experiments.main --config=experiments/configs/implicit_regularisation/random_labels.py --workdir=/tmp/dl_course/implicit_random_labels
Expected: checks 1 of 1 passed; reproduced 3 of 3 claims (100 % train accuracy at every p; test
accuracy falls with p, Spearman ρ <= -0.9, to within 5 points of 10 % at p = 1;
fitting slower for every p > 0 and >= 2x slower at p = 1).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/implicit_regularisation/random_labels.py:quick --workdir=/tmp/dl_course/implicit_random_labels_quick
Expected: checks 1 of 1 passed; reproduced 3 of 3 claims (1,000 sklearn digits 8x8; ours: steps to
fit 150 / 700 / 800 / 825 / 700, test accuracy 97.5 % at p = 0 and 10.0 % at p = 1).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'random_labels',
      full=dict(data=dict(name='mnist5k'), optimizer=dict(learning_rate=1e-3),
                train=dict(batch_size=100, max_steps=30000, eval_every=25), num_train=4000,
                fractions=(0.0, 0.2, 0.5, 0.8, 1.0),
                model={'name': 'mlp', 'hidden_sizes': (512, 512)},
                # Runs trained together as one vmap (0: all); whole groups are spread
                # over devices, so results never depend on the device count.
                runs_per_group=0),
      # Spearman ρ(p, test accuracy), test accuracy's distance from chance at the
      # largest p, and how much slower the noisiest labels fit than clean ones.
      claim=dict(max_spearman=-0.9, max_chance_gap=0.05, min_slowdown=2.0),
      quick=dict(data=dict(name='digits'), num_train=1000))
