"""Errors that are the user's to fix: the CLI prints them as one line, no traceback."""


class UserError(Exception):
  """A mistake in a flag, config value, dataset name or path.

  The message must name the bad key or value and say what is allowed.
  """


class ConfigError(UserError):
  """A config value that is out of range, of the wrong kind, or not a known name."""

  def __init__(self, key: str, value, allowed: str):
    self.key, self.value, self.allowed = key, value, allowed
    super().__init__(f'config.{key}={value!r} is not allowed: {allowed}')


class DataNotFoundError(UserError):
  """A dataset that is not on this machine; the message says how to provide it."""


class TrainingDivergedError(Exception):
  """A logged metric became NaN or Inf; the last good checkpoint is kept."""

  def __init__(self, metric: str, step: int, value: float, last_good_step):
    self.metric, self.step, self.value = metric, step, value
    self.last_good_step = last_good_step
    where = ('no checkpoint was written yet' if last_good_step is None else
             f'last good checkpoint: step {last_good_step}')
    super().__init__(
        f'training diverged: metric {metric!r} is {value} at step {step}; '
        f'{where}')
