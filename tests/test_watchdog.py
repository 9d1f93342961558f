"""The launcher's watchdog restarts a child that stops using CPU, and leaves a busy one alone."""
import subprocess
import sys

import pytest

from launch.watchdog import run_with_restarts

# First attempt: sleeps (a stalled run). Later attempts: finish at once.
SCRIPT = '''
import pathlib, sys, time
marker = pathlib.Path(sys.argv[1])
attempt = int(marker.read_text()) + 1 if marker.exists() else 1
marker.write_text(str(attempt))
if attempt == 1:
    time.sleep(60)
print(f"finished on attempt {attempt}")
'''


def test_a_stalled_child_is_restarted_and_its_output_returned(tmp_path, capsys):
  done = run_with_restarts([sys.executable, '-c', SCRIPT, str(tmp_path / 'marker')],
                           stall_seconds=1.5, poll_seconds=0.1)
  assert done.returncode == 0
  assert 'finished on attempt 2' in done.stdout
  assert 'made no progress' in capsys.readouterr().err


def test_a_busy_child_is_not_restarted(tmp_path):
  busy = 'import time\nend = time.time() + 3\nwhile time.time() < end: pass\nprint("ok")'
  done = run_with_restarts([sys.executable, "-c", busy], stall_seconds=2.5, poll_seconds=0.1)
  assert done.returncode == 0 and done.stdout.strip() == 'ok'


def test_a_child_over_its_time_limit_raises_like_subprocess_run(tmp_path):
  busy_forever = 'while True: pass'
  with pytest.raises(subprocess.TimeoutExpired):
    run_with_restarts([sys.executable, '-c', busy_forever], stall_seconds=60, poll_seconds=0.1,
                      timeout=1.0)


def test_cwd_and_env_reach_the_child(tmp_path):
  done = run_with_restarts([sys.executable, '-c', 'import os; print(os.getcwd(), os.environ["X"])'],
                           cwd=tmp_path, env={'X': 'forty-two'}, poll_seconds=0.1)
  assert done.stdout.split() == [str(tmp_path), 'forty-two']
