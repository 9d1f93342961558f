"""Optax optimizers built from a config's `optimizer` section.

(The course's hand-written optimizers live elsewhere; this is the production
path, which uses Optax's own implementations.)
"""
from __future__ import annotations

import optax

from dl_course.config import check_choice, check_range

NAMES = ('sgd', 'adam', 'adamw')
SCHEDULES = ('constant', 'cosine', 'linear')


def validate(config) -> None:
  check_choice(config, 'optimizer.name', NAMES)
  check_choice(config, 'optimizer.schedule', SCHEDULES)
  check_range(config, 'optimizer.learning_rate', 0.0, low_open=True)
  check_range(config, 'optimizer.momentum', 0.0, 1.0)
  check_range(config, 'optimizer.weight_decay', 0.0)
  check_range(config, 'optimizer.warmup_steps', 0, integer=True)
  check_range(config, 'optimizer.grad_clip_norm', 0.0)


def learning_rate_schedule(opt, num_steps: int) -> optax.Schedule:
  peak, warmup = opt.learning_rate, opt.warmup_steps
  decay_steps = max(num_steps - warmup, 1)
  if opt.schedule == 'constant':
    after = optax.constant_schedule(peak)
  elif opt.schedule == 'cosine':
    after = optax.cosine_decay_schedule(peak, decay_steps)
  else:
    after = optax.linear_schedule(peak, 0.0, decay_steps)
  if warmup == 0:
    return after
  return optax.join_schedules([optax.linear_schedule(0.0, peak, warmup), after], [warmup])


def build(opt, num_steps: int) -> optax.GradientTransformation:
  lr = learning_rate_schedule(opt, num_steps)
  if opt.name == 'sgd':
    core = optax.sgd(lr, momentum=opt.momentum or None, nesterov=opt.nesterov)
    if opt.weight_decay:
      core = optax.chain(optax.add_decayed_weights(opt.weight_decay), core)
  elif opt.name == 'adam':
    core = optax.adam(lr, b1=opt.b1, b2=opt.b2)
    if opt.weight_decay:  # L2 penalty through the gradient (Adam's classic form).
      core = optax.chain(optax.add_decayed_weights(opt.weight_decay), core)
  else:
    core = optax.adamw(lr, b1=opt.b1, b2=opt.b2, weight_decay=opt.weight_decay)
  if opt.grad_clip_norm:
    core = optax.chain(optax.clip_by_global_norm(opt.grad_clip_norm), core)
  return core
