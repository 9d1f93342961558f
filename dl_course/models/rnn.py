"""Recurrent classifiers for sequences (MNIST-1D read one value per step)."""
from __future__ import annotations

import flax.linen as nn

from dl_course.models.mlp import add_channel_axis


class GRUClassifier(nn.Module):
  """The MNIST-1D paper's GRU: a (bi)directional GRU over the 40 time steps,
  every step's hidden state concatenated, then a linear head."""
  num_classes: int
  hidden_size: int = 6
  bidirectional: bool = True

  @nn.compact
  def __call__(self, x_BT, *, train: bool = False):
    del train
    x_BTC = add_channel_axis(x_BT)
    forward = nn.RNN(nn.GRUCell(self.hidden_size), name='forward')
    if self.bidirectional:
      backward = nn.RNN(nn.GRUCell(self.hidden_size), reverse=True, keep_order=True,
                        name='backward')
      h_BTH = nn.Bidirectional(forward, backward)(x_BTC)
    else:
      h_BTH = forward(x_BTC)
    return nn.Dense(self.num_classes)(h_BTH.reshape(h_BTH.shape[0], -1))
