"""What every config file shares: the `:arg` string (`quick`, `seed=N` and any
arguments a config adds) and the layout each family's configs start from.

Every config names its study (`config.study`, a key of experiments/registry.py),
so `python -m experiments.main --config=FILE` knows what to run.
"""
import ml_collections

from dl_course.classification import default_config
from dl_course.config import parse_config_arg

ARGS = {'quick': bool, 'seed': int}


def study_args(arg, extra: dict | None = None) -> dict:
  """Parses `arg`; `extra` adds config-specific arguments (name -> type)."""
  return parse_config_arg(arg, {**ARGS, **(extra or {})})


def study_config(arg, study: str, full: dict, quick: dict, claim: dict | None = None,
                 quick_claim: dict | None = None, full_claim: dict | None = None
                 ) -> ml_collections.ConfigDict:
  """`full` holds every key at the published scale; `quick` the keys it shrinks.
  `claim` holds the thresholds of the study's claims (`config.claim`: numbers
  and (low, high) intervals); `quick_claim` those the quick variant changes;
  `full_claim` those only the published scale claims (absent from quick).
  `arg` is the config argument string or what study_args made of it."""
  args = arg if isinstance(arg, dict) else study_args(arg)
  config = ml_collections.ConfigDict({'study': study, 'seed': args.get('seed', 0), **full})
  if 'data' in full:  # where idx files or prepared TFDS data live, if not embedded
    config.data.dir = ''
  if claim is not None or full_claim is not None:
    config.claim = ml_collections.ConfigDict({
        **(claim or {}), **({} if args.get('quick') else full_claim or {})})
  if args.get('quick'):
    config.update(quick)
    if quick_claim:
      config.claim.update(quick_claim)
  return config


PPO_CLASSIC_CONTROL = dict(  # the standard small-scale PPO (CleanRL's ppo.py defaults)
    optimizer=dict(learning_rate=2.5e-4), num_envs=4, num_steps=128, update_epochs=4,
    num_minibatches=4, anneal_lr=True, gamma=0.99, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.01,
    vf_coef=0.5, max_grad_norm=0.5, reward_scale=1.0, hidden_sizes=(64, 64))


def rl_config(arg, study: str, full: dict, quick: dict) -> ml_collections.ConfigDict:
  """`full` holds every key at the published scale; `quick` the keys it changes."""
  args = study_args(arg)
  config = ml_collections.ConfigDict({'study': study, 'seed': args.get('seed', 0),
                                      'final_fraction': 0.05, 'chunk_updates': 100, **full})
  if args.get('quick'):
    config.update(quick)
  return config


MNIST1D_PAPER = 'Greydanus & Kobak 2024, table 1'


def mnist1d_config(arg, study: str, model: dict, *, paper_accuracy: float,
                   quick_accuracy: float, steps_per_dispatch: int = 100,
                   quick_steps: int = 1500, **overrides):
  """The paper's training set-up (Adam, lr 1e-2, batch 100, 6,000 steps) and its
  claim: test accuracy at least the published figure (full) or `quick_accuracy`
  after `quick_steps` (quick)."""
  args = parse_config_arg(arg, ARGS)
  config = default_config()
  config.study = study
  config.data.name = 'mnist1d'
  config.model.update(model)
  config.steps_per_dispatch = steps_per_dispatch
  config.seed = args.get('seed', 0)
  config.claim.min_test_accuracy = paper_accuracy
  config.claim.published = f'{100 * paper_accuracy:.0f} % ({MNIST1D_PAPER})'
  for key, value in overrides.items():  # only keys the trainer reads: a stray one would be ignored
    if key not in config:
      raise KeyError(f'mnist1d_config: unknown key {key!r}')
    if isinstance(value, dict):
      config[key].update(value)
    else:
      config[key] = value
  if args.get('quick'):
    config.train.num_steps = quick_steps
    config.train.eval_every = config.checkpoint_every = quick_steps // 3
    config.claim.min_test_accuracy = quick_accuracy
  return config
