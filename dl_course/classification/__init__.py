"""Supervised classification on the registry's datasets (MNIST-1D, digits, ...)."""
from dl_course.classification.trainer import (claims, default_config, run, train_and_evaluate,
                                              validate)

__all__ = ['claims', 'default_config', 'run', 'train_and_evaluate', 'validate']
