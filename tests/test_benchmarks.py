"""The benchmarks that compare against other frameworks run, or say how to get them."""
import importlib.util
import sys

import pytest

from tests.helpers import run

WITHOUT_TORCH = ("import runpy, sys; sys.modules['torch'] = None; sys.argv = ['bench_vs_torch']; "
                 "runpy.run_module('launch.bench_vs_torch', run_name='__main__')")


def test_bench_vs_torch_without_torch_says_how_to_install_it_and_exits_0():
  done = run([sys.executable, '-c', WITHOUT_TORCH], timeout=120)
  assert done.returncode == 0, done.stderr
  assert 'pip install torch==2.13.0' in done.stdout
  assert 'Traceback' not in done.stderr


@pytest.mark.skipif(importlib.util.find_spec('torch') is None,
                    reason='PyTorch is not installed (optional: pip install torch==2.13.0)')
def test_bench_vs_torch_prints_both_rates_and_their_ratio():
  done = run([sys.executable, '-m', 'launch.bench_vs_torch', '--models=mlp', '--seconds=1',
              '--rounds=1', '--steps_per_dispatch=5'], timeout=300)
  assert done.returncode == 0, done.stderr
  row = next(line for line in done.stdout.splitlines() if line.startswith('mlp'))
  ours, theirs, ratio = (float(v.replace(',', '')) for v in row.split()[1:4])
  assert ours > 0 and theirs > 0
  # The rates are printed rounded to whole ex/s and the ratio to 2 decimals, from
  # the unrounded rates: the ratio of the printed rates is as far off as that rounding.
  rounding = ours / theirs * (0.5 / ours + 0.5 / theirs) + 0.005
  assert ratio == pytest.approx(ours / theirs, abs=rounding)
