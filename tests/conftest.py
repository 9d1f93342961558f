import os
import shutil
import tempfile

from dl_course.engine import compilation_cache


def pytest_addoption(parser):
  parser.addoption('--all-quick-commands', action='store_true',
                   help='Also run the quick docstring commands that CI already runs '
                        'through `launch.reproduce` (see tests/test_config_docstrings.py).')
  parser.addoption('--slow', action='store_true',
                   help='Also run the tests marked slow: every notebook executed and graded, '
                        'two-process runs, a local sweep, evaluate / watch / TensorBoard end '
                        'to end (minutes; .ci/run runs them as `pytest --slow -m slow`).')


def pytest_collection_modifyitems(config, items):
  """Tests marked slow take minutes each; the suite (README's command) stays under
  10 minutes on 2 cores without them, and CI runs them in a step of their own."""
  if config.getoption('--slow'):
    return
  import pytest  # pylint: disable=import-outside-toplevel
  skip = pytest.mark.skip(reason='slow (minutes): run with --slow; .ci/run does')
  for item in items:
    if 'slow' in item.keywords:
      item.add_marker(skip)


def pytest_configure(config):
  """The commands the tests start share one compilation cache, made for this session
  and removed after it: as on a user's machine, a program compiled by one run is
  read back by the next, and `-n 2`'s workers write it concurrently. xdist's
  workers start after this and inherit the variable."""
  if hasattr(config, 'workerinput') or compilation_cache.VARIABLE in os.environ:
    return
  folder = tempfile.mkdtemp(prefix='dl_course-tests-compilation-cache-')
  os.environ[compilation_cache.VARIABLE] = folder
  config.stash_compilation_cache = folder


def pytest_unconfigure(config):
  folder = getattr(config, 'stash_compilation_cache', None)
  if folder:
    shutil.rmtree(folder, ignore_errors=True)
