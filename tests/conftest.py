def pytest_addoption(parser):
  parser.addoption('--all-quick-commands', action='store_true',
                   help='Also run the quick docstring commands that CI already runs '
                        'through `launch.reproduce` (see tests/test_config_docstrings.py).')
