"""The set-up the image classifiers share; the `classification` study (the one
trainer) runs them on any dataset the data registry reads."""
from dl_course.classification import default_config
from dl_course.config import parse_config_arg
from experiments.configs.common import ARGS


def image_classifier(arg, model: dict, *, num_steps: int, quick_steps: int):
  return _classifier(arg, 'mnist5k', model, num_steps, quick_steps)


def tabular_classifier(arg, model: dict, *, num_steps: int, quick_steps: int):
  return _classifier(arg, 'digits', model, num_steps, quick_steps)


def regressor(arg, model: dict, *, num_steps: int, quick_steps: int, max_rmse: float = 6.5,
              quick_max_rmse: float = 8.0):
  """The same trainer as a regressor: UCI concrete by default, a Gaussian head."""
  config = _classifier(arg, 'uci:concrete', model, num_steps, quick_steps)
  config.data.task = 'regression'
  config.loss = 'gaussian_nll'
  config.train.batch_size = 32
  config.optimizer.learning_rate = 1e-2
  quick = parse_config_arg(arg, ARGS).get('quick')
  config.claim = {'max_test_rmse': quick_max_rmse if quick else max_rmse,
                  'published': 'MC dropout 4.82 ± 0.16 over 20 splits (Gal 2018)'}
  return config


def _classifier(arg, dataset: str, model: dict, num_steps: int, quick_steps: int):
  args = parse_config_arg(arg, ARGS)
  config = default_config()
  config.study = 'classification'
  config.seed = args.get('seed', 0)
  config.data.name = dataset
  config.data.validation_fraction = 0.1
  config.model.update(model)
  config.optimizer.update(learning_rate=1e-3, schedule='cosine')
  config.train.update(batch_size=64, num_steps=num_steps, eval_every=num_steps // 6)
  config.checkpoint_every = num_steps // 3
  config.steps_per_dispatch = 50
  if args.get('quick'):
    config.train.update(num_steps=quick_steps, eval_every=quick_steps // 3)
    config.checkpoint_every = quick_steps // 3
  return config
