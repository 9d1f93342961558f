"""Running a resumable command in a child process, restarted if it stalls.

jaxlib 0.10's CPU runtime occasionally wedges a process (WORKSPACE.md: the main
thread waits on a buffer forever and no thread computes). A run whose CPU time
stops advancing for `stall_seconds` is killed and started again; because every
run here resumes bit-identically from its last checkpoint, a restart changes
nothing but the wall time.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import time


def cpu_seconds(pid: int) -> float | None:
  """User + system CPU time of a process and its children so far (Linux /proc),
  or None where /proc is not available."""
  try:
    fields = pathlib.Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
  except OSError:
    return None
  ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
  return ticks / os.sysconf('SC_CLK_TCK')


def run_with_restarts(command: list[str], *, stall_seconds: float = 120.0, attempts: int = 3,
                      poll_seconds: float = 2.0, min_cpu_seconds: float = 0.5,
                      timeout: float | None = None, **popen_kwargs
                      ) -> subprocess.CompletedProcess:
  """Runs `command`; if it uses less than `min_cpu_seconds` of CPU in any
  `stall_seconds`, kills it and runs it again (up to `attempts` times in all).
  Returns the completed process of the last attempt. An attempt running longer
  than `timeout` seconds is killed and raises subprocess.TimeoutExpired, as
  subprocess.run does; `popen_kwargs` (cwd, env) go to Popen."""
  for attempt in range(1, attempts + 1):
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
      process = subprocess.Popen(command, stdout=out, stderr=err, text=True, **popen_kwargs)
      started = last_change = time.monotonic()
      last_cpu = 0.0
      stalled = False
      while process.poll() is None:
        time.sleep(poll_seconds)
        used = cpu_seconds(process.pid)
        if used is None or used >= last_cpu + min_cpu_seconds:
          last_cpu, last_change = (used or 0.0), time.monotonic()
        elif time.monotonic() - last_change > stall_seconds:
          process.kill()
          process.wait()
          stalled = True
        if timeout is not None and process.poll() is None and \
            time.monotonic() - started > timeout:
          process.kill()
          process.wait()
          raise subprocess.TimeoutExpired(command, timeout)
      out.seek(0)
      err.seek(0)
      done = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    if not stalled:
      return done
    print(f'warning: {" ".join(command[2:4])} made no progress for {stall_seconds:.0f} s '
          f'(attempt {attempt} of {attempts}); restarting, it resumes from its checkpoint',
          file=sys.stderr, flush=True)
  return done
