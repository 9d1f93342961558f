"""Implicit regularisation of (S)GD in overparameterised models: seven studies.

Each study is a module with validate/run/plot/claims (see dl_course/studies.py);
configs live in experiments/configs/implicit_regularisation/ and run with
`python -m experiments.main --config=...`.
"""
