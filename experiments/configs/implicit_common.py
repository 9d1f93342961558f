"""Shared by the implicit-regularisation configs: the `quick` and `seed`
arguments (and any a config adds), and the config layout."""
import ml_collections

from dl_course.config import parse_config_arg

ARGS = {'quick': bool, 'seed': int}


def study_args(arg, extra: dict | None = None) -> dict:
  """Parses `arg`; `extra` adds config-specific arguments (name -> type)."""
  return parse_config_arg(arg, {**ARGS, **(extra or {})})


def study_config(arg, study: str, full: dict, quick: dict) -> ml_collections.ConfigDict:
  """`full` holds every key at the published scale; `quick` the keys it shrinks.
  `arg` is the config argument string or what study_args made of it."""
  args = arg if isinstance(arg, dict) else study_args(arg)
  config = ml_collections.ConfigDict({'study': study, 'seed': args.get('seed', 0), **full})
  if 'dataset' in full:  # where idx files or prepared TFDS data live, if not embedded
    config.data_dir = ''
  if args.get('quick'):
    config.update(quick)
  return config
