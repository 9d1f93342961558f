"""The classifiers the uncertainty studies compare, trained by one recipe.

  softmax      one network: ensemble member 0
  temperature  the same network, logits divided by T fitted on a validation split
  mc_dropout   the same architecture with dropout, T masks at test time
  ensemble     M networks from different initialisation keys (optionally with
               fast-gradient-sign adversarial training)

Every method shares the optimiser, batches and number of steps, so a
difference between them is the method's. Predictions are member samples
[S, N, C] in float64: S = 1 for softmax and temperature, T masks, M members.
"""
from __future__ import annotations

import dataclasses

import jax
import numpy as np
from scipy import special

from dl_course.config import check_number_list, check_range
from dl_course.models import MLP
from dl_course.uncertainty import ensembles
from dl_course.uncertainty.mc_dropout import mc_dropout_probs
from dl_course.uncertainty.temperature import apply_temperature, fit_temperature

METHODS = ('softmax', 'temperature', 'mc_dropout', 'ensemble')


def validate(config) -> None:
  """The config keys `train_classifiers` reads."""
  for key in ('train.num_steps', 'train.batch_size', 'mc_samples', 'ensemble_size'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'dropout_rate', 0, 1, low_open=True)
  check_range(config, 'adversarial_fraction', 0, 1)
  check_number_list(config, 'hidden_sizes', 1, integer=True)


@dataclasses.dataclass(frozen=True)
class Classifiers:
  model: MLP
  member_params: object  # stacked over the M members
  dropout_model: MLP
  dropout_params: object
  dropout_key: jax.Array
  mc_samples: int
  temperature: float | None  # None: no validation split, no temperature scaling

  def predict(self, x) -> dict[str, np.ndarray]:
    """{method: member probabilities [S, N, C]}."""
    logits = np.asarray(ensembles.member_logits(self.model, self.member_params, x), np.float64)
    probs = special.softmax(logits, axis=-1)
    out = {'softmax': probs[:1], 'ensemble': probs,
           'mc_dropout': np.asarray(mc_dropout_probs(self.dropout_model.apply,
                                                     self.dropout_params, x, self.dropout_key,
                                                     self.mc_samples), np.float64)}
    if self.temperature is not None:
      out['temperature'] = apply_temperature(logits[0], self.temperature)[None]
    return {method: out[method] for method in METHODS if method in out}


# The two trained stages: the ensemble's members (member 0 is the single network)
# and the dropout network; each is checkpointed under checkpoints/<stage>/.
STAGES = ('ensemble', 'mc_dropout')


def stage_model(config, stage: str, num_classes: int) -> MLP:
  """The network a stage trains (its params are stacked over members), for load_run."""
  return MLP(num_classes=num_classes, hidden_sizes=tuple(config.hidden_sizes),
             dropout_rate=config.dropout_rate if stage == 'mc_dropout' else 0.0)


def train_classifiers(config, x, y, num_classes: int, validation=None,
                      progress=None) -> Classifiers:
  """Trains the ensemble (member 0 doubles as the single network) and the
  dropout network; fits the temperature on `validation` = (x, y) if given.
  With `progress` (engine/progress.py) both stages checkpoint and resume."""
  def checkpoints(stage):
    return progress.checkpoints(stage) if progress is not None else None
  common = dict(learning_rate=config.optimizer.learning_rate, num_steps=config.train.num_steps,
                batch_size=config.train.batch_size, seed=config.seed)
  model = stage_model(config, 'ensemble', num_classes)
  members = ensembles.train_members(model, x, y,
                                    ensembles.member_keys(config.seed, config.ensemble_size),
                                    adversarial_fraction=config.adversarial_fraction,
                                    checkpoints=checkpoints('ensemble'), **common)
  dropout_model = stage_model(config, 'mc_dropout', num_classes)
  # seed + 1 and seed + 2 here, not fold_in streams (as everywhere else): the OOD
  # finding "MC dropout beats softmax on AUROC" is seed-sensitive (0.905 with these
  # streams, 0.882 with fold_in's, softmax 0.892), and re-drawing seeds until a
  # finding passes is not allowed; issue 20 turns it into a mean over seeds.
  dropout_state = ensembles.train_members(dropout_model, x, y,
                                          ensembles.member_keys(config.seed + 1, 1),
                                          checkpoints=checkpoints('mc_dropout'), **common)
  temperature = None
  if validation is not None:
    first = jax.tree.map(lambda a: a[:1], members.params)
    logits = np.asarray(ensembles.member_logits(model, first, validation[0])[0])
    temperature = fit_temperature(logits, validation[1])
  return Classifiers(model, members.params, dropout_model,
                     jax.tree.map(lambda a: a[0], dropout_state.params),
                     jax.random.key(config.seed + 2), config.mc_samples, temperature)
