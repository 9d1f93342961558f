"""Shared by the four MNIST-1D configs: the paper's training set-up.

Greydanus & Kobak (2024) train every model with Adam, lr 1e-2, batch 100,
6,000 steps; `quick` shortens the run for CI.
"""
from dl_course.classification import default_config
from dl_course.config import parse_config_arg

ARGS = {'quick': bool, 'seed': int}


def mnist1d_config(arg, model: dict, *, dispatch: str = 'scan', steps_per_dispatch: int = 100,
                   quick_steps: int = 1500, **overrides):
  args = parse_config_arg(arg, ARGS)
  config = default_config()
  config.dataset = 'mnist1d'
  config.model.update(model)
  config.dispatch = dispatch
  config.steps_per_dispatch = steps_per_dispatch
  config.seed = args.get('seed', 0)
  for key, value in overrides.items():
    config[key] = value
  if args.get('quick'):
    config.num_steps = quick_steps
    config.eval_every = config.checkpoint_every = quick_steps // 3
  return config
