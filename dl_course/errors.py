"""Errors that are the user's to fix: the CLI prints them as one line, no traceback."""
import errno
import os


class UserError(Exception):
  """A mistake in a flag, config value, dataset name or path.

  The message must name the bad key or value and say what is allowed.
  """


class ConfigError(UserError):
  """A config value that is out of range, of the wrong kind, or not a known name."""

  def __init__(self, key: str, value, allowed: str):
    self.key, self.value, self.allowed = key, value, allowed
    super().__init__(f'config.{key}={value!r} is not allowed: {allowed}')


class SizeError(UserError):
  """A size from the config that the data or the machine cannot serve; the entry
  point names the config key that holds `value`."""

  def __init__(self, value: int, allowed: str):
    self.value, self.allowed = value, allowed
    super().__init__(f'a size of {value:,} is not allowed: {allowed}')


class DataNotFoundError(UserError):
  """A dataset that is not on this machine; the message says how to provide it."""


class StorageError(Exception):
  """A write that the disk refused mid-run (full, read-only, gone). The run stops
  with one line naming the path and the cause; what it wrote before is intact."""


STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO, errno.EFBIG)
STORAGE_FAILURES = ('No space left on device', 'Disk quota exceeded', 'Read-only file system',
                    'Permission denied', 'Input/output error')


def storage_cause(error: BaseException) -> str | None:
  """The disk's reason in an error raised by a write, also when a library wraps it
  (TensorStore's RESOURCE_EXHAUSTED around ENOSPC), or None when it is no such error."""
  if isinstance(error, OSError) and error.errno is not None:
    return os.strerror(error.errno) if error.errno in STORAGE_ERRNOS else None
  return next((cause for cause in STORAGE_FAILURES if cause in str(error)), None)


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
