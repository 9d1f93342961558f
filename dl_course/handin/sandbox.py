"""Confinement of a test process, and the grader's sweep for its leftovers.

The test process (runner.py) calls `confine` on itself before it loads any
submitted code:
  - resource limits: address space (memory), CPU seconds, bytes per written
    file (so also its output, which goes to files), no core dumps;
  - Landlock (Linux >= 5.13, unprivileged): files may be written, created,
    renamed or removed only beneath the scratch directory; from ABI 4 no TCP
    bind or connect; from ABI 6 no signals to, and no abstract sockets of,
    processes outside the sandbox (the grader cannot be killed from inside).
Where Landlock is missing the limits still hold and the report says so.

The grader makes itself a child subreaper: a process forked by the submission
that outlives the test process is re-parented to the grader instead of init,
so `reap_descendants` can find and kill it even after it left its session.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
import time

# Landlock ABI (include/uapi/linux/landlock.h); the syscall numbers are the
# same on every architecture.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36

_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_REMOVE_DIR, _FS_REMOVE_FILE, _FS_MAKE_CHAR, _FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
_FS_MAKE_REG, _FS_MAKE_SOCK, _FS_MAKE_FIFO, _FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
_FS_MAKE_SYM, _FS_REFER, _FS_TRUNCATE = 1 << 12, 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1

# Every right that changes the file system; reading and executing stay free so
# that Python, numpy and jax load as usual.
_WRITES_V1 = (_FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE_CHAR | _FS_MAKE_DIR
              | _FS_MAKE_REG | _FS_MAKE_SOCK | _FS_MAKE_FIFO | _FS_MAKE_BLOCK | _FS_MAKE_SYM)


class _RulesetAttr(ctypes.Structure):
  _fields_ = [('handled_access_fs', ctypes.c_uint64), ('handled_access_net', ctypes.c_uint64),
              ('scoped', ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
  _pack_ = 1
  _fields_ = [('allowed_access', ctypes.c_uint64), ('parent_fd', ctypes.c_int32)]


def _libc():
  return ctypes.CDLL(ctypes.util.find_library('c') or None, use_errno=True)


def landlock_abi() -> int:
  """The kernel's Landlock ABI version, 0 where there is none (or not Linux)."""
  try:
    version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0),
                              ctypes.c_uint32(_CREATE_RULESET_VERSION))
  except (OSError, AttributeError):
    return 0
  return max(int(version), 0)


def _landlock(writable_dir: str, writable_files: tuple[str, ...]) -> int:
  abi = landlock_abi()
  if abi < 1:
    return 0
  libc = _libc()
  writes = _WRITES_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
  attr = _RulesetAttr(handled_access_fs=writes,
                      handled_access_net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                      scoped=(_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
  size = 8 if abi < 4 else (16 if abi < 6 else 24)
  ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                         ctypes.c_uint32(0))
  if ruleset < 0:
    raise OSError(ctypes.get_errno(), 'landlock_create_ruleset failed')
  file_writes = _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
  try:
    for path, allowed in ((writable_dir, writes),
                          *((f, file_writes) for f in writable_files)):
      fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
      try:
        rule = _PathBeneathAttr(allowed_access=allowed, parent_fd=fd)
        if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule),
                        ctypes.c_uint32(0)) < 0:
          raise OSError(ctypes.get_errno(), f'landlock_add_rule failed for {path}')
      finally:
        os.close(fd)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
      raise OSError(ctypes.get_errno(), 'prctl(PR_SET_NO_NEW_PRIVS) failed')
    if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
      raise OSError(ctypes.get_errno(), 'landlock_restrict_self failed')
  finally:
    os.close(ruleset)
  return abi


def confine(scratch: str, *, memory_bytes: int, cpu_seconds: int, file_bytes: int) -> str:
  """Confines the calling process for good; returns a line naming what holds."""
  for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, cpu_seconds),
                       (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(limit, (value, value))
  abi = _landlock(scratch, ('/dev/null',))
  held = ['memory, CPU and file-size limits']
  held.append(f'Landlock ABI {abi}: writes only in the scratch directory'
              + (', no TCP' if abi >= 4 else '') + (', no signals out' if abi >= 6 else '')
              if abi else 'no Landlock on this kernel: writes outside scratch are not blocked')
  return '; '.join(held)


def become_subreaper() -> bool:
  """Makes orphaned descendants of this process its children (Linux); False elsewhere."""
  try:
    return _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
  except (OSError, AttributeError):
    return False


def _stat(pid: int) -> tuple[int, int, int] | None:
  """(parent pid, process group, session) of a live process, None if it is gone."""
  try:
    with open(f'/proc/{pid}/stat', 'rb') as f:
      fields = f.read().rsplit(b')', 1)[1].split()
  except OSError:
    return None
  return int(fields[1]), int(fields[2]), int(fields[3])


def _processes() -> list[int]:
  try:
    return [int(name) for name in os.listdir('/proc') if name.isdigit()]
  except OSError:
    return []


def reap_descendants(session: int, rounds: int = 50) -> int:
  """Kills every process left in the test's session and every orphan re-parented
  to this (subreaper) process; returns how many it killed. Repeats until a
  round finds none, since a dying parent hands its children to us."""
  me, killed = os.getpid(), 0
  for _ in range(rounds):
    found = []
    for pid in _processes():
      stat = _stat(pid)
      if pid != me and stat and (stat[0] == me or stat[2] == session):
        found.append(pid)
    if not found:
      return killed
    for pid in found:
      try:
        os.kill(pid, signal.SIGKILL)
        killed += 1
      except (ProcessLookupError, PermissionError):
        pass
    time.sleep(0.01)
    for pid in found:
      try:
        os.waitpid(pid, os.WNOHANG)  # a zombie left now is reaped in the next round
      except ChildProcessError:  # not our child: it was in the session, its parent reaps it
        pass
  return killed
