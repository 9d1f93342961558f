"""Implicit regularisation of (S)GD in overparameterised models: seven studies.

Each study is a module with validate/run/plot/claims (see dl_course/studies.py);
configs live in experiments/configs/implicit_<study>.py and run with
`python -m experiments.implicit_regularisation --config=...`.
"""
from dl_course.studies import IMPLICIT_STUDIES as STUDIES
from dl_course.studies import load_summary, run_study, study_module

__all__ = ['STUDIES', 'load_summary', 'run_study', 'study_module']
