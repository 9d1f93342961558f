"""Implicit regularisation of (S)GD in overparameterised models: seven studies.

Each study is a module with validate/run/plot/claims (see runner.py); configs
live in experiments/configs/implicit_<study>.py and run with
`python -m experiments.implicit_regularisation --config=...`.
"""
from dl_course.implicit.runner import STUDIES, load_summary, run_study, study_module

__all__ = ['STUDIES', 'load_summary', 'run_study', 'study_module']
