"""A VAE with categorical latents, trained through the Gumbel-softmax
relaxation and its straight-through variant, and the variance of the
gradient estimators that make that possible.

Model: binarised MNIST-5k (re-binarised every step), N categorical latents of
K classes, uniform prior, MLP encoder and decoder (dl_course.generative.gumbel).
The temperature is annealed tau_t = max(tau_min, exp(-r t)) (Jang et al.
2017). Both variants are judged by the ELBO of the discrete model itself
(exact one-hot samples) on the test images.

Estimator variance: at the trained Gumbel-softmax model, for 100 test images,
`num_draws` single-sample estimates of d/d(logits) E_q[log p(x|c)] by
Gumbel-softmax (at tau_min), straight-through, the score function
(REINFORCE), and REINFORCE with a leave-one-out baseline; the variance per
logit, averaged. The relaxed estimators are biased (they differentiate a
relaxed objective) but their variance is far lower: the reason they exist.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.claims import FINDING, Claim, at_least, at_most
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.engine.blocks import train_args, train_in_blocks
from dl_course.generative import gumbel
from dl_course.generative.images import binarised_mnist5k, image_grid
from dl_course.plots import plt, save_figure

VARIANCE_ESTIMATORS = ('gumbel_softmax', 'straight_through', 'reinforce', 'reinforce_baseline')


def validate(config) -> None:
  for key in ('num_latents', 'num_classes', 'train.num_steps', 'train.batch_size',
              'train.eval_every', 'test_size', 'num_draws', 'eval_samples'):
    check_range(config, key, 1, integer=True)
  check_number_list(config, 'hidden', 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'min_temperature', 0, 1, low_open=True)
  check_range(config, 'anneal_rate', 0)
  check_range(config, 'nll_target', 0, low_open=True)
  if config.num_draws < 2:
    raise ConfigError('num_draws', config.num_draws, 'at least 2 (the baseline leaves one out)')
  check_multiple(config, 'train.num_steps', 'train.eval_every')


def temperature(config, step):
  return jnp.maximum(config.min_temperature, jnp.exp(-config.anneal_rate * step))


def run(config, log) -> dict:
  train, test = binarised_mnist5k(config.seed, config.test_size)
  test_x = jnp.asarray(test)
  model = gumbel.CategoricalVAE(784, config.num_latents, config.num_classes,
                                tuple(config.hidden))
  root = jax.random.key(config.seed)
  eval_key = jax.random.fold_in(root, 2)
  results, trained = {}, {}
  for index, estimator in enumerate(gumbel.ESTIMATORS):
    params = model.init(jax.random.fold_in(root, 10 + index), test_x[:2])['params']

    def loss(params, xb, yb, step_key, step, estimator=estimator):
      del yb
      binarise_key, sample_key = jax.random.split(step_key)
      x = jax.random.bernoulli(binarise_key, xb).astype(jnp.float32)
      return -gumbel.relaxed_elbo(model, params, x, sample_key, temperature(config, step),
                                  estimator).mean()

    def test_elbo(params):
      return gumbel.discrete_elbo(model, params, test_x, eval_key, config.eval_samples).mean()

    def record(step, train_loss, test_value, estimator=estimator):
      log({'step': step, 'estimator': estimator, 'train/neg_relaxed_elbo': train_loss,
           'test/elbo': test_value, 'temperature': float(temperature(config, step))})

    params, train_curve, test_curve = train_in_blocks(
        loss, test_elbo, params, optax.adam(config.optimizer.learning_rate), train,
        np.zeros(len(train)), **train_args(config), log=record,
        key=jax.random.fold_in(root, 20 + index),
        metric_names=('train/neg_relaxed_elbo', 'test/elbo'))
    trained[estimator] = params
    results[estimator] = {'test_neg_elbo': -float(test_curve[-1]),
                          'curve': {'train': train_curve.tolist(), 'test': test_curve.tolist()}}

  variances = {}
  batch = test_x[:100]
  for estimator in VARIANCE_ESTIMATORS:
    draws = jax.jit(lambda key, estimator=estimator: gumbel.reconstruction_gradient_samples(
        model, trained['gumbel_softmax'], batch, key, config.num_draws, estimator,
        config.min_temperature))(jax.random.fold_in(root, 3))
    variances[estimator] = float(jnp.mean(jnp.var(draws, axis=0)))
    log({'step': config.train.num_steps,
         'estimator': estimator, 'gradient_variance': variances[estimator]})

  codes = jax.nn.one_hot(jax.random.randint(jax.random.fold_in(root, 4),
                                            (64, config.num_latents), 0, config.num_classes),
                         config.num_classes)
  samples = jax.nn.sigmoid(model.apply({'params': trained['gumbel_softmax']}, codes,
                                       method=gumbel.CategoricalVAE.decode))
  return {'estimators': results, 'gradient_variance': variances,
          'samples': np.round(np.asarray(samples), 3).tolist()}


def claims(config, summary) -> list[Claim]:
  results = summary['estimators']
  variance = summary['gradient_variance']
  return [
      at_most(f'categorical VAE ({config.num_latents} x {config.num_classes}-way), Gumbel-softmax: '
              'test -ELBO of the discrete model, nats', results['gumbel_softmax']['test_neg_elbo'],
              config.nll_target, digits=2, kind=FINDING),
      at_most('... straight-through Gumbel-softmax: test -ELBO, nats',
              results['straight_through']['test_neg_elbo'], config.nll_target, digits=2,
              kind=FINDING),
      at_least('gradient variance, REINFORCE / Gumbel-softmax (same model, 100 test images)',
               variance['reinforce'] / variance['gumbel_softmax'],
               config.claim.min_reinforce_variance_ratio, digits=0, kind=FINDING),
      at_least('... REINFORCE with a leave-one-out baseline / Gumbel-softmax',
               variance['reinforce_baseline'] / variance['gumbel_softmax'],
               config.claim.min_baseline_variance_ratio, digits=1, kind=FINDING),
  ]


def plot(summary, workdir) -> None:
  workdir = pathlib.Path(workdir)
  fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
  for estimator, result in summary['estimators'].items():
    axes[0].plot(-np.asarray(result['curve']['test']), label=estimator)
  axes[0].set_xlabel('evaluation')
  axes[0].set_ylabel('test -ELBO (discrete), nats')
  axes[0].legend(fontsize=8)
  names = list(summary['gradient_variance'])
  axes[1].bar(range(len(names)), [summary['gradient_variance'][n] for n in names])
  axes[1].set_yscale('log')
  axes[1].set_xticks(range(len(names)))
  axes[1].set_xticklabels([n.replace('_', '\n') for n in names], fontsize=7)
  axes[1].set_title('gradient variance per logit', fontsize=9)
  samples = np.asarray(summary['samples']).reshape(-1, 28, 28, 1)
  axes[2].imshow(image_grid(samples, 8), cmap='gray_r', vmin=0, vmax=1)
  axes[2].set_title('decoded random codes (Gumbel-softmax model)', fontsize=9)
  axes[2].axis('off')
  save_figure(fig, workdir / 'gumbel_softmax.png')
