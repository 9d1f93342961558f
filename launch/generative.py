"""The generative-models studies, quick or at full scale, with one summary
table (claim | target | ours | pass) and the figures: flows on 2-D densities
and on images, VAEs (Bernoulli on MNIST-5k, Gaussian on the digits),
autoencoders against PCA and noise, a GAN on the 8-Gaussian ring, Gumbel-softmax
against REINFORCE.

  python -m launch.generative            # quick variants (CI)
  python -m launch.generative --full
  python -m launch.generative --only=flows2d,gan2d

Writes <workdir>/<run>/ (records and PNGs per run) and <workdir>/summary.md.
`python -m launch.reproduce generative` runs the same claims.
"""
from __future__ import annotations

import pathlib

from absl import app

from dl_course.claims import Claim
from launch.study_suite import define_suite_flags, run_suite, suite_main

CONFIGS = {'flows2d': 'generative_flows2d', 'image_flows': 'generative_image_flows',
           'image_flows_mnist': 'generative_image_flows_mnist',
           'vae': 'generative_vae', 'vae_digits': 'generative_vae_digits',
           'autoencoders': 'generative_autoencoders', 'gan2d': 'generative_gan2d',
           'dcgan': 'generative_dcgan', 'gumbel': 'generative_gumbel',
           'semi_supervised': 'generative_semi_supervised'}


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_suite(CONFIGS, full, workdir)[0]


def main(argv):
  del argv
  suite_main('Generative models', CONFIGS, 'generative_')


if __name__ == '__main__':
  define_suite_flags()
  app.run(main)
