"""dl_course: a functional JAX/Flax codebase for a graduate deep-learning course.

The library holds pure functions only; absl flags live in `experiments/`.
"""
