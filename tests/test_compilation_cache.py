"""The persistent compilation cache every command turns on (dl_course/engine/compilation_cache.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dl_course.engine import compilation_cache
from tests.helpers import REPO, env_with_devices

# A child that turns the cache on as every command does, compiles one small
# program (cached whatever its compile time) and prints how many times it read
# the cache and its result's bits.
CHILD = '''
import hashlib, jax, jax.numpy as jnp, numpy as np
from dl_course.engine import compilation_cache
hits = []
jax.monitoring.register_event_listener(
    lambda event, **kw: hits.append(event) if event == '/jax/compilation_cache/cache_hits' else None)
print('dir', compilation_cache.enable())
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
step = jax.jit(lambda x: jax.lax.fori_loop(0, 50, lambda i, y: jnp.tanh(y @ y.T) + i, x))
x = np.arange(64.0, dtype=np.float32).reshape(8, 8) / 64  # numpy: the one program is `step`
result = step(x)
print('hits', len(hits), 'bits', hashlib.sha256(np.asarray(result).tobytes()).hexdigest())
'''


def _child(cache: str | None, *, home: str | None = None) -> subprocess.Popen:
  env = env_with_devices(1)
  env.pop('JAX_COMPILATION_CACHE_DIR', None)
  env.pop(compilation_cache.VARIABLE, None)
  if cache is not None:
    env[compilation_cache.VARIABLE] = cache
  if home is not None:
    env['HOME'] = home
    env.pop('XDG_CACHE_HOME', None)
  return subprocess.Popen([sys.executable, '-c', CHILD], cwd=REPO, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(child: subprocess.Popen) -> dict:
  out, err = child.communicate(timeout=120)
  assert child.returncode == 0, err
  assert err.strip() == '', err  # no warning: a half-written entry would make JAX warn
  lines = dict(line.split(' ', 1) for line in out.splitlines())
  hits, bits = lines['hits'].split(' bits ')
  return {'dir': lines['dir'], 'hits': int(hits), 'bits': bits}


def test_concurrent_writers_then_a_reader_that_hits(tmp_path):
  cache = tmp_path / 'cache'
  first, second = _child(str(cache)), _child(str(cache))
  written = [_finish(first), _finish(second)]
  assert {w['dir'] for w in written} == {str(cache)}
  entries = [p for p in os.listdir(cache) if p.endswith('-cache')]
  assert len(entries) == 1, os.listdir(cache)
  reader = _finish(_child(str(cache)))
  assert reader['hits'] == 1
  assert reader['bits'] == written[0]['bits'] == written[1]['bits']


def test_off_and_an_unwritable_folder_leave_the_cache_off(tmp_path):
  assert _finish(_child('off'))['dir'] == 'None'
  blocked = tmp_path / 'file'
  blocked.write_text('not a folder')
  assert _finish(_child(str(blocked / 'cache')))['dir'] == 'None'


def test_default_folder_is_under_the_users_cache(tmp_path):
  done = _finish(_child(None, home=str(tmp_path)))
  assert done['dir'] == str(tmp_path / '.cache' / 'dl_course' / 'jax')
  assert os.listdir(tmp_path / '.cache' / 'dl_course' / 'jax')


@pytest.mark.parametrize('setting', ['off', 'OFF', '0', ''])
def test_off_spellings(monkeypatch, setting):
  monkeypatch.setenv(compilation_cache.VARIABLE, setting)
  assert compilation_cache.cache_dir() is None
