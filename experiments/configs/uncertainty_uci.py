"""UCI regression protocol on Boston housing (mlxtend's 506 rows) and sklearn's
diabetes (442 rows): 20 random 90/10 splits, one hidden layer of 50 ReLU units,
MC dropout with (p, τ) chosen per split on an inner 80/20 validation split
(p in {0.005, 0.01, 0.05, 0.1}, τ in {0.1, 0.15, 0.2}, Adam 1e-3, batch 32,
400 epochs as in Gal's converged rerun, 10,000 test passes) and deep ensembles
of 5 Gaussian-NLL members with adversarial training (ε = 1 % of each input's
range, Adam 1e-2, 40 epochs).

Command:
  python -m experiments.uncertainty --config=experiments/configs/uncertainty_uci.py --workdir=/tmp/dl_course/uncertainty_uci
Expected: reproduced 4 of 4 claims (Boston: MC dropout test LL >= -2.46 and
RMSE <= 2.97, Gal & Ghahramani 2016; deep ensembles LL >= -2.41 and RMSE <= 3.28,
Lakshminarayanan et al. 2017).

Quick variant (CI):
  python -m experiments.uncertainty --config=experiments/configs/uncertainty_uci.py:quick --workdir=/tmp/dl_course/uncertainty_uci_quick
Expected: reproduced 4 of 4 claims (Boston only, same protocol, fewer epochs).
"""
from experiments.configs.implicit_common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'uci_regression',
      full=dict(datasets=('boston', 'diabetes'), num_splits=20, hidden=50,
                dropout_rates=(0.005, 0.01, 0.05, 0.1), taus=(0.1, 0.15, 0.2),
                epochs=400, batch_size=32, learning_rate=1e-3, validation_samples=1000,
                test_samples=10000, ensemble_size=5, ensemble_epochs=40,
                ensemble_learning_rate=1e-2, adversarial_epsilon=0.01),
      quick=dict(datasets=('boston',)))
