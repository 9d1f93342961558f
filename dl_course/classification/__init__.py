"""Supervised classification on the registry's datasets (MNIST-1D, digits, ...)."""
from dl_course.classification.trainer import default_config, train_and_evaluate, validate

__all__ = ['default_config', 'train_and_evaluate', 'validate']
