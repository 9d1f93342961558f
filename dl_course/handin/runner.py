"""The test process: confines itself, then runs one test of one submission.

  python -I runner.py SCRATCH TESTS_FILE TEST_NAME RESULT_FILE MEMORY CPU FILE_BYTES

The grader starts it with the scratch directory as its working directory and
reads RESULT_FILE (opened here before confinement, outside the scratch
directory) once it has exited. Only the standard library is imported before
`confine`; the tests file and the submission (`submission.py` in SCRATCH) are
loaded after it, so everything they import is confined too. A submission runs
in the same process as its test, so one written to lie about its own result
can; the sandbox protects the grader and the machine, not the verdict.
"""
import errno
import importlib.util
import json
import os
import pathlib
import sys
import time
import traceback

_REPO = pathlib.Path(__file__).resolve().parents[2]
_MESSAGE_CHARS = 800
_FILES = {}  # path -> how a message names it


def _where(error: BaseException) -> str:
  """The deepest lines of the submission and of the tests in the traceback."""
  found = {}
  for frame in traceback.extract_tb(error.__traceback__):
    if frame.filename in _FILES:
      found[_FILES[frame.filename]] = f'{_FILES[frame.filename]} line {frame.lineno}: {frame.line}'
  return f' ({"; ".join(found.values())})' if found else ''


def _message(error: BaseException) -> str:
  text = f'{type(error).__name__}: {error}'.rstrip(': ')
  return (text[:_MESSAGE_CHARS] + ' ...' if len(text) > _MESSAGE_CHARS else text) + _where(error)


def _load(name: str, path: pathlib.Path):
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  spec.loader.exec_module(module)
  return module


def _verdict(error: BaseException | None, stage: str) -> tuple[str, str]:
  if error is None:
    return 'pass', ''
  if isinstance(error, SystemExit):
    return 'exit', f'the {stage} called sys.exit({error.code!r})'
  if isinstance(error, OSError) and error.errno == errno.EFBIG:
    return 'output', f'the {stage} wrote more than the output and file-size limit'
  if isinstance(error, MemoryError):
    return 'memory', f'over the memory limit while running the {stage}' + _where(error)
  if isinstance(error, SyntaxError) and stage == 'submission':
    return 'error', f'the submission does not compile: line {error.lineno}: {error.msg}'
  if isinstance(error, NotImplementedError):
    return 'todo', 'not written yet' + _where(error)
  if isinstance(error, AssertionError) and stage == 'test':
    return 'fail', _message(error)
  return 'error', f'the {stage} raised ' + _message(error)


def main(argv: list[str]) -> int:
  scratch, tests_file, test_name, result_file = argv[1:5]
  memory, cpu, file_bytes = (int(v) for v in argv[5:8])
  result = open(result_file, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
  sys.path[:0] = [scratch, str(_REPO)]
  from dl_course.handin import sandbox  # pylint: disable=import-outside-toplevel
  held = sandbox.confine(scratch, memory_bytes=memory, cpu_seconds=cpu, file_bytes=file_bytes)
  start = time.perf_counter()
  stage, error = 'tests file', None
  _FILES.update({str(pathlib.Path(tests_file)): 'tests',
                 str(pathlib.Path(scratch) / 'submission.py'): 'submission.py'})
  try:
    tests = _load('handin_tests', pathlib.Path(tests_file))
    stage = 'submission'
    submission = _load('submission', pathlib.Path(scratch) / 'submission.py')
    stage = 'test'
    getattr(tests, test_name)(submission)
  except BaseException as e:  # pylint: disable=broad-except  # every outcome is a verdict
    error = e
  verdict, message = _verdict(error, stage)
  json.dump({'verdict': verdict, 'message': message, 'sandbox': held,
             'seconds': time.perf_counter() - start}, result)
  result.close()
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(0)  # no atexit handlers the submission may have registered


if __name__ == '__main__':
  sys.exit(main(sys.argv))
