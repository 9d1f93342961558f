"""The uncertainty studies with their tables beside the published numbers.

  python -m launch.uncertainty            # quick variants
  python -m launch.uncertainty --full     # published scale

Prints the UCI table (ours beside MC dropout 2016 / 2018, deep ensembles, PBP),
the dataset-shift tables (rotated MNIST-5k, noisy MNIST-1D), the OOD table and
the claims; writes <workdir>/<study>/ and <workdir>/summary.md.
`python -m launch.reproduce uncertainty` runs the same claims.
"""
from __future__ import annotations

import pathlib

from absl import app, flags

from dl_course.claims import Claim
from dl_course.studies import load_summary
from dl_course.uncertainty import ood_study, shift_study, uci_study
from launch.study_suite import define_suite_flags, finish_suite, run_suite, suite_workdir

CONFIGS = {'uci_regression': 'uncertainty_uci', 'dataset_shift': 'uncertainty_shift',
           'dataset_shift_mnist1d': 'uncertainty_shift_mnist1d',
           'ood_held_out_classes': 'uncertainty_ood'}


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_suite(CONFIGS, full, workdir)[0]


def main(argv):
  del argv
  workdir = suite_workdir('uncertainty_')
  claims_list, seconds = run_suite(CONFIGS, flags.FLAGS.full, workdir)
  tables = {'UCI regression': (uci_study.table, 'uci_regression'),
            'Rotated MNIST-5k': (shift_study.table, 'dataset_shift'),
            'Noisy MNIST-1D': (shift_study.table, 'dataset_shift_mnist1d'),
            'OOD, held-out classes': (ood_study.table, 'ood_held_out_classes')}
  finish_suite('Uncertainty', workdir, claims_list, seconds, '\n'.join(
      f'{title}\n{table(load_summary(workdir / name))}\n'
      for title, (table, name) in tables.items()))


if __name__ == '__main__':
  define_suite_flags()
  app.run(main)
