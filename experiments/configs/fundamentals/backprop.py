"""Backprop from scratch: the hand-written NumPy MLP checked against central
finite differences and jax.grad (float64; sigmoid, tanh, ReLU x softmax
cross-entropy, one logistic neuron, MSE), then trained on digits (8x8) with
minibatch SGD beside the same model trained in JAX from the same weights and
batches. Tanh MLP 64-64-10, SGD 0.1, batch 32, 3,000 steps.

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/backprop.py --workdir=/tmp/dl_course/fundamentals_backprop
Expected: checks 3 of 3 passed; reproduced 1 of 1 claims (hand-written vs finite differences: max
relative error 2.7e-9, vs jax.grad 5.0e-16; NumPy MLP test accuracy 96.9 %
(>= 95 %); NumPy and JAX weights after 3,000 steps differ by 9.4e-16; ~30 s).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/backprop.py:quick --workdir=/tmp/dl_course/fundamentals_backprop_quick
Expected: checks 3 of 3 passed; reproduced 1 of 1 claims (1,000 steps: test accuracy 96.4 %,
>= 93 %; the gradient checks are the same as the full variant's; ~12 s).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'backprop',
      full=dict(data=dict(name='digits'), optimizer=dict(learning_rate=0.1),
                train=dict(batch_size=32, num_steps=3000), activation='tanh', hidden_sizes=(64,),
                log_every=25, gradcheck_examples=8, gradcheck_hidden_sizes=(5,),
                target_accuracy=0.95),
      # Checks: float64 gradients against finite differences and jax.grad, NumPy
      # against JAX training (relative differences).
      claim=dict(max_gradient_error=1e-6, max_training_difference=1e-9),
      quick=dict(train=dict(num_steps=1000), target_accuracy=0.93))
