"""Edge of stability (Cohen et al. 2021, figure 1): full-batch GD on 1,000
MNIST-1D signals, ReLU MLP 40-200-200-10, MSE loss, η in {0.03, 0.04, 0.06}.

Sharpness starts near 44, dips to ~30 within 100 steps, then rises steadily
(progressive sharpening) until it meets 2/η (66.7, 50, 33.3) and stays there
while the loss keeps falling with small rises. The config argument
`model=cnn1d` runs the MNIST-1D CNN instead (η in {0.1, 0.15}, 3,000 steps;
ours: 5 of 5 claims, mean λ·η/2 0.98 and 1.04, sharpening 5.3x from 3.5, ~8 min),
`--config.loss=xent` switches to cross-entropy, but on this set-up it shows no
clean edge of stability, so it is not a claim here: sharpness at initialisation
(~5.5) is already near where sharpening peaks (~6.4 for a tanh MLP at η = 0.05); at η = 0.3
(2/η = 6.7) it overshoots once (λ·η/2 = 1.41, a catapult) and then falls to
λ·η/2 = 0.03 as the loss goes to zero — the late-training decline Cohen et al.
describe for cross-entropy, without the phase at 2/η before it.

Command:
  python -m experiments.main --config=experiments/configs/implicit_regularisation/edge_of_stability.py --workdir=/tmp/dl_course/implicit_eos
Expected: reproduced 7 of 7 claims (at each η, mean λ_max·η/2 after reaching
2/η in [0.9, 1.2]; the loss falls non-monotonically there; sharpening >= 1.3x).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/implicit_regularisation/edge_of_stability.py:quick --workdir=/tmp/dl_course/implicit_eos_quick
Expected: reproduced 3 of 3 claims (η = 0.06 for 1,500 steps).
"""
from dl_course.errors import ConfigError
from experiments.configs.common import study_args, study_config

MODELS = {'mlp': {'name': 'mlp', 'hidden_sizes': (200, 200), 'activation': 'relu'},
          'cnn1d': {'name': 'cnn1d'}}
LEARNING_RATES = {'mlp': (0.03, 0.04, 0.06), 'cnn1d': (0.1, 0.15)}
# The CNN's steps cost ~10x the MLP's on CPU: fewer steps, sparser sharpness.
NUM_STEPS = {'mlp': 5000, 'cnn1d': 3000}
SHARPNESS_EVERY = {'mlp': 10, 'cnn1d': 25}


def get_config(arg=None):
  args = study_args(arg, {'model': str})
  model = args.get('model', 'mlp')
  if model not in MODELS:
    raise ConfigError('model (config argument)', model, 'one of ' + ', '.join(MODELS))
  return study_config(
      args, 'edge_of_stability',
      full=dict(data=dict(name='mnist1d'), train=dict(num_steps=NUM_STEPS[model]),
                num_train=1000, chunk_size=1000, loss='mse', model=MODELS[model],
                learning_rates=LEARNING_RATES[model], lanczos_tol=1e-3,
                sharpness_every=SHARPNESS_EVERY[model]),
      # λ_max·η/2 hovers at 1 once it reaches 2/η; sharpening before it.
      claim=dict(eos_mean=(0.9, 1.2), min_sharpening=1.3),
      quick=dict(train=dict(num_steps=1500), learning_rates=(max(LEARNING_RATES[model]),),
                 sharpness_every=20))
