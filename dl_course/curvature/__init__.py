"""Curvature of a training loss: Hessian-vector products and spectra."""
from dl_course.curvature.hessian import (FlatHessian, chunk_dataset, dataset_loss, hvp)
from dl_course.curvature.spectrum import (hutchinson_trace, lanczos_tridiagonal, power_iteration,
                                          spectral_density, top_eigenpairs)

__all__ = ['FlatHessian', 'chunk_dataset', 'dataset_loss', 'hutchinson_trace',
           'lanczos_tridiagonal', 'power_iteration', 'hvp', 'spectral_density', 'top_eigenpairs']
