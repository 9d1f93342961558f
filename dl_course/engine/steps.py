"""Step builders: `train_step(state, batch) -> (state, metrics)` and evaluation sums.

A task supplies `loss_fn(outputs, batch) -> (loss, metrics)` for training and
`per_example_fn(outputs, batch) -> {name: [B] values}` for evaluation.
"""
from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from dl_course.engine.state import TrainState, apply_model


def classification_loss(logits_BC, batch):
  losses_B = optax.softmax_cross_entropy_with_integer_labels(logits_BC, batch['y'])
  accuracy = jnp.mean(jnp.argmax(logits_BC, -1) == batch['y'])
  return losses_B.mean(), {'loss': losses_B.mean(), 'accuracy': accuracy}


def classification_per_example(logits_BC, batch):
  losses_B = optax.softmax_cross_entropy_with_integer_labels(logits_BC, batch['y'])
  return {'loss': losses_B, 'accuracy': (jnp.argmax(logits_BC, -1) == batch['y']).astype(jnp.float32)}


def gaussian_head(outputs_B2):
  """(mean, variance): variance = softplus + 1e-6, as in Lakshminarayanan et al. 2017."""
  return outputs_B2[:, 0], jax.nn.softplus(outputs_B2[:, 1]) + 1e-6


REGRESSION_LOSSES = ('mse', 'gaussian_nll')
# Outputs of the model per loss: the mean, or the mean and a raw variance.
REGRESSION_OUTPUTS = {'mse': 1, 'gaussian_nll': 2}


def make_regression_fns(loss: str, target_scale: float):
  """(loss_fn, per_example_fn) for targets standardised by `target_scale` (the
  training targets' standard deviation): the model fits standardised targets, and
  evaluation reports squared error and NLL in the target's own units."""
  log_scale = jnp.log(target_scale)

  def terms(outputs_BO, y_B):
    if loss == 'mse':
      mean, variance = outputs_BO[:, 0], None
    else:
      mean, variance = gaussian_head(outputs_BO)
    squared_B = (mean - y_B) ** 2
    if variance is None:
      return squared_B, squared_B
    nll_B = 0.5 * jnp.log(2 * jnp.pi * variance) + 0.5 * squared_B / variance
    return squared_B, nll_B

  def loss_fn(outputs_BO, batch):
    squared_B, objective_B = terms(outputs_BO, batch['y'])
    return objective_B.mean(), {'loss': objective_B.mean(),
                                'rmse': jnp.sqrt(squared_B.mean()) * target_scale}

  def per_example_fn(outputs_BO, batch):
    squared_B, objective_B = terms(outputs_BO, batch['y'])
    # 'mse' is averaged over examples first; its square root is the split's RMSE.
    values = {'mse': squared_B * target_scale ** 2}
    if loss == 'gaussian_nll':
      values['nll'] = objective_B + log_scale
    return values

  return loss_fn, per_example_fn


def make_train_step(apply_fn, tx: optax.GradientTransformation, loss_fn: Callable,
                    adversarial_epsilon=None):
  """One SGD-family update; logs grad and param norms (the NaN guard reads them).

  With `adversarial_epsilon` (a scalar or an array shaped like one input) the
  objective adds the loss at the fast-gradient-sign input x + epsilon * sign(d
  loss / d x) (Goodfellow et al. 2015), as Lakshminarayanan et al. 2017 train
  ensemble members; the perturbation is a constant for the parameter gradient.
  """

  def train_step(state: TrainState, batch):
    step_key = jax.random.fold_in(state.key, state.step)

    def loss_at(params, x):
      outputs, model_state = apply_model(apply_fn, params, state.model_state, x,
                                         train=True, key=step_key)
      loss, metrics = loss_fn(outputs, batch)
      return loss, (metrics, model_state)

    def objective(params):
      loss, aux = loss_at(params, batch['x'])
      if adversarial_epsilon is not None:
        input_grad = jax.grad(lambda x: loss_at(params, x)[0])(batch['x'])
        perturbed = jax.lax.stop_gradient(batch['x'] + adversarial_epsilon * jnp.sign(input_grad))
        loss = loss + loss_at(params, perturbed)[0]
      return loss, aux

    grads, (metrics, model_state) = jax.grad(objective, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {**metrics, 'grad_norm': optax.global_norm(grads),
               'param_norm': optax.global_norm(params)}
    new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state,
                              model_state=model_state)
    return new_state, metrics

  return train_step


def scan_steps(train_step):
  """K steps in one XLA loop: batches carry a leading [K] axis."""
  def run(state, batches):
    return jax.lax.scan(train_step, state, batches)
  return run


def make_eval_sums(apply_fn, per_example_fn: Callable):
  """(state, batch with a 0/1 'mask') -> {name: sum over unmasked examples, 'count'}."""

  def eval_sums(state: TrainState, batch):
    outputs, _ = apply_model(apply_fn, state.params, state.model_state, batch['x'], train=False)
    values = per_example_fn(outputs, batch)
    mask = batch['mask']
    sums = {k: jnp.sum(v * mask) for k, v in values.items()}
    return {**sums, 'count': jnp.sum(mask)}

  return eval_sums
