"""Shared by the implicit-regularisation configs: `quick` and `seed` arguments."""
import ml_collections

from dl_course.config import parse_config_arg

ARGS = {'quick': bool, 'seed': int}


def study_config(arg, study: str, full: dict, quick: dict) -> ml_collections.ConfigDict:
  """`full` holds every key at the published scale; `quick` the keys it shrinks."""
  args = parse_config_arg(arg, ARGS)
  config = ml_collections.ConfigDict({'study': study, 'seed': args.get('seed', 0), **full})
  if args.get('quick'):
    config.update(quick)
  return config
