"""Seeing inside a CNN: saliency, class activation maps, Grad-CAM, activation
maximisation, first-layer filters.

The network is the class-activation-map architecture (Zhou et al. 2016):
convolutions, then global average pooling, then one linear layer, split into
`features(x) -> A [B, h, w, K]` and `head(A) -> logits` so each method can
reach the last feature maps.

  saliency      |∂y_c/∂x| (Simonyan et al. 2014), max over input channels
  CAM           Σ_k w_kc A_k, the linear layer's weights on the feature maps
  Grad-CAM      ReLU(Σ_k α_k A_k), α_k = mean over positions of ∂y_c/∂A_k
                (Selvaraju et al. 2017); with global average pooling and a
                linear head α_k = w_kc / (h·w), so Grad-CAM equals CAM there
  maximisation  x* = argmax_x log p(c | x) − λ‖x − ½‖², normalised gradient ascent from grey,
                with random shifts of the image each step (a regulariser
                against adversarial high-frequency patterns), pixels kept in [0, 1]
Maps are upsampled to the input size and scaled to [0, 1] per example.
"""
from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from dl_course.models.conv import Conv


class CAMNet(nn.Module):
  num_classes: int
  channels: Sequence[int] = (16, 32, 64)

  def setup(self):
    self.convs = [Conv(c, (3, 3), padding='SAME') for c in self.channels]
    self.classifier = nn.Dense(self.num_classes)

  def features(self, x):
    for i, conv in enumerate(self.convs):
      x = nn.relu(conv(x))
      if i < len(self.convs) - 1:
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
    return x

  def head(self, feature_maps):
    return self.classifier(feature_maps.mean(axis=(1, 2)))

  def __call__(self, x):
    return self.head(self.features(x))


def _normalise(maps_BHW):
  low = maps_BHW.min(axis=(1, 2), keepdims=True)
  high = maps_BHW.max(axis=(1, 2), keepdims=True)
  return (maps_BHW - low) / jnp.maximum(high - low, 1e-12)


def _upsample(maps_Bhw, size):
  return jax.image.resize(maps_Bhw, maps_Bhw.shape[:1] + tuple(size), 'bilinear')


def class_logit(model, params, x, classes):
  logits = model.apply({'params': params}, x)
  return jnp.take_along_axis(logits, classes[:, None], 1)[:, 0]


def saliency(model, params, x, classes):
  """|∂ logit_c / ∂x| per pixel [B, H, W] (not normalised)."""
  grads = jax.grad(lambda x: class_logit(model, params, x, classes).sum())(x)
  return jnp.abs(grads).max(axis=-1)


def class_activation_map(model, params, x, classes):
  feature_maps = model.apply({'params': params}, x, method=CAMNet.features)
  weights = params['classifier']['kernel'][:, classes].T  # [B, K]
  cams = jnp.einsum('bhwk,bk->bhw', feature_maps, weights)
  return _normalise(_upsample(nn.relu(cams), x.shape[1:3]))


def grad_cam(model, params, x, classes):
  feature_maps = model.apply({'params': params}, x, method=CAMNet.features)

  def score(a):
    logits = model.apply({'params': params}, a, method=CAMNet.head)
    return jnp.take_along_axis(logits, classes[:, None], 1).sum()

  alphas = jax.grad(score)(feature_maps).mean(axis=(1, 2))  # [B, K]
  cams = nn.relu(jnp.einsum('bhwk,bk->bhw', feature_maps, alphas))
  return _normalise(_upsample(cams, x.shape[1:3]))


def maximise_class(model, params, classes, shape, key, *, steps: int = 300,
                   learning_rate: float = 0.01, l2: float = 0.005, max_shift: int = 1):
  """Inputs [B, *shape] that the network assigns to `classes` (gradient ascent on
  log p(c | x) − λ‖x − ½‖²). A Python loop over one jitted step: XLA:CPU runs
  convolutions inside loops very slowly."""
  x = 0.5 + 0.01 * jax.random.normal(key, (len(classes),) + tuple(shape))

  def objective(x):
    log_probs = jax.nn.log_softmax(model.apply({'params': params}, x))
    return (jnp.take_along_axis(log_probs, classes[:, None], 1).sum()
            - l2 * jnp.sum((x - 0.5) ** 2))

  @jax.jit
  def step(x, step_key):
    shift = jax.random.randint(step_key, (2,), -max_shift, max_shift + 1)
    grads = jnp.roll(jax.grad(objective)(jnp.roll(x, shift, axis=(1, 2))), -shift, axis=(1, 2))
    # each image's step scaled to a typical pixel change of learning_rate, whatever the
    # size of its gradient (which shrinks as p(c | x) approaches 1)
    scale = jnp.std(grads, axis=tuple(range(1, grads.ndim)), keepdims=True) + 1e-12
    return jnp.clip(x + learning_rate * grads / scale, 0.0, 1.0)

  for step_key in jax.random.split(jax.random.fold_in(key, 1), steps):
    x = step(x, step_key)
  return x


def delete_pixels(x, scores, fraction: float):
  """x with the `fraction` highest-scoring pixels of each image set to 0 (background)."""
  flat = scores.reshape(scores.shape[0], -1)
  count = max(1, int(round(fraction * flat.shape[1])))
  threshold = jnp.sort(flat, axis=1)[:, -count][:, None]
  keep = (flat < threshold).reshape(scores.shape)
  return x * keep[..., None]
