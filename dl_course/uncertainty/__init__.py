"""Predictive uncertainty: metrics, MC dropout, deep ensembles, temperature scaling."""
