"""dl_course: a functional JAX/Flax codebase for a graduate deep-learning course.

The library holds pure functions only; absl flags live in `experiments/`.
`dl_course.load_run(workdir)` gives back a run's config, model and trained state.
"""
from dl_course.runs import Run, load_run

__all__ = ['Run', 'load_run']
