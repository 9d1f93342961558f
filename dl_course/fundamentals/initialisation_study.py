"""Tricks of the trade, first: initialisation. How the scale of the initial
weights decides whether signals and gradients survive depth.

A plain MLP (width n, L hidden layers, no biases) at initialisation, fed
standardised MNIST-1D signals; per layer, the standard deviation of the
activations on the way up and the norm of the loss gradient with respect to
the layer's pre-activations on the way down (cross-entropy at a linear
readout): the error signal backpropagation carries.
Weights W ~ N(0, σ²/n_in) with
  lecun / xavier  σ² = 1           (Glorot & Bengio 2010 for square layers)
  he              σ² = 2           (He et al. 2015: ReLU halves the variance)
  orthogonal      W orthogonal × gain (1 for tanh, √2 for ReLU; Saxe et al. 2014)
  too small       σ² = 0.25
  too large       σ² = 4
For ReLU each layer multiplies the second moment by σ²/2, so only He keeps
it: with σ² = 1 it halves per layer. For tanh σ² = 1 is the edge between
vanishing and saturating.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import FINDING, Claim, between
from dl_course.config import check_range
from dl_course.errors import ConfigError
from dl_course.plots import plt, save_figure

VARIANCES = {'xavier': 1.0, 'he': 2.0, 'too small': 0.25, 'too large': 4.0}
INITS = (*VARIANCES, 'orthogonal')
ACTIVATIONS = {'tanh': jnp.tanh, 'relu': jax.nn.relu}


def validate(config) -> None:
  for key in ('depth', 'width', 'train.batch_size'):
    check_range(config, key, 1, integer=True)
  if config.depth < 2:
    raise ConfigError('depth', config.depth, 'at least 2 hidden layers')


def init_weights(name: str, activation: str, key, depth: int, width: int, fan_in: int):
  weights = []
  for layer, layer_key in enumerate(jax.random.split(key, depth)):
    n_in = fan_in if layer == 0 else width
    if name == 'orthogonal':
      gain = np.sqrt(2.0) if activation == 'relu' else 1.0
      # orthogonal rows scaled to the same second moment as W ~ N(0, gain^2 / n_in)
      w = jax.nn.initializers.orthogonal(gain * np.sqrt(width / n_in) if layer == 0 else gain)(
          layer_key, (n_in, width))
    else:
      w = jax.random.normal(layer_key, (n_in, width)) * np.sqrt(VARIANCES[name] / n_in)
    weights.append(w)
  return weights


def profile(activation: str, weights, readout, x, y):
  """(activation std per layer [L], ‖∂loss/∂z_l‖ per layer [L]) where z_l = h_{l-1} W_l is
  the pre-activation: the error signal backprop carries down, measured as the
  gradient with respect to a zero perturbation added to each z_l."""
  f = ACTIVATIONS[activation]

  def forward(perturbations):
    h, stds = x, []
    for w, delta in zip(weights, perturbations):
      h = f(h @ w + delta)
      stds.append(jnp.std(h))
    loss = optax.softmax_cross_entropy_with_integer_labels(h @ readout, y).mean()
    return loss, jnp.stack(stds)

  zeros = [jnp.zeros((x.shape[0], w.shape[1])) for w in weights]
  grads, stds = jax.grad(forward, has_aux=True)(zeros)
  return np.asarray(stds), np.array([float(jnp.linalg.norm(g)) for g in grads])


def run(config, log) -> dict:
  train = data.load('mnist1d', 'train')
  x = train.x[:config.train.batch_size].reshape(config.train.batch_size, -1)
  x = jnp.asarray((x - x.mean(0)) / (x.std(0) + 1e-8))
  y = jnp.asarray(train.y[:config.train.batch_size])
  key = jax.random.key(config.seed)
  readout = jax.random.normal(jax.random.fold_in(key, 99),
                              (config.width, train.info.num_classes)) / np.sqrt(config.width)
  results = {}
  for activation in ACTIVATIONS:
    for name in INITS:
      weights = init_weights(name, activation, jax.random.fold_in(key, 1), config.depth,
                             config.width, x.shape[1])
      stds, grad_norms = profile(activation, weights, readout, x, y)
      results[f'{activation}/{name}'] = {'activation_std': stds.tolist(),
                                         'gradient_norm': grad_norms.tolist()}
      log({'step': 0, 'activation': activation, 'init': name, 'last_std': float(stds[-1]),
           'first_std': float(stds[0]), 'first_gradient': float(grad_norms[0]),
           'last_gradient': float(grad_norms[-1])})
  return {'depth': config.depth, 'width': config.width, 'profiles': results}


def ratio(profile: list[float]) -> float:
  return profile[-1] / profile[0]


def claims(config, summary) -> list[Claim]:
  p = summary['profiles']
  L = config.depth
  std = lambda key: ratio(p[key]['activation_std'])
  grad = lambda key: p[key]['gradient_norm'][0] / p[key]['gradient_norm'][-1]
  c = config.claim
  return [
      between(f'ReLU, He init: activation std at layer {L} / layer 1', std('relu/he'),
              *c.he_activation_ratio, kind=FINDING, published='theory 1 (He et al. 2015)'),
      Claim('ReLU, Xavier init (σ² = 1): the same ratio', f'<= {c.xavier_max_ratio:g} (vanishes)',
            f'{std("relu/xavier"):.1e}', bool(std('relu/xavier') <= c.xavier_max_ratio),
            kind=FINDING, published=f'theory 2^-{(L - 1) / 2:g} = {2 ** (-(L - 1) / 2):.1e} '
            '(He et al. 2015)'),
      Claim('too small (σ² = 0.25) vanishes, too large (σ² = 4) explodes, for ReLU',
            f'<= {c.vanish_max_ratio:g} and >= {c.explode_min_ratio:g}',
            f'{std("relu/too small"):.1e} and {std("relu/too large"):.1e}',
            bool(std('relu/too small') <= c.vanish_max_ratio
                 and std('relu/too large') >= c.explode_min_ratio), kind=FINDING),
      between(f'ReLU, He init: backpropagated error ‖∂loss/∂z‖ at layer 1 / layer {L}',
              grad('relu/he'), *c.he_gradient_ratio, kind=FINDING),
      Claim('tanh: the same ratio vanishes with too small weights, explodes with too large '
            '(the chaotic phase)', f'<= {c.vanish_max_ratio:g} and >= {c.tanh_explode_min_ratio:g}',
            f'{grad("tanh/too small"):.1e} and {grad("tanh/too large"):.1e}',
            bool(grad('tanh/too small') <= c.vanish_max_ratio
                 and grad('tanh/too large') >= c.tanh_explode_min_ratio), kind=FINDING),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
  layers = np.arange(1, summary['depth'] + 1)
  for column, activation in enumerate(ACTIVATIONS):
    for name in INITS:
      profile = summary['profiles'][f'{activation}/{name}']
      axes[0, column].semilogy(layers, profile['activation_std'], label=name)
      axes[1, column].semilogy(layers, profile['gradient_norm'], label=name)
    axes[0, column].set_title(f'{activation}: activation std per layer')
    axes[1, column].set_title(f'{activation}: ‖∂loss/∂z‖ per layer (backpropagated error)')
    axes[1, column].set_xlabel('layer')
  axes[0, 0].legend()
  fig.suptitle(f'MLP at initialisation, width {summary["width"]}, MNIST-1D batch')
  save_figure(fig, workdir / 'initialisation.png')
