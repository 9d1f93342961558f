"""Recurrent cells written out by hand and unrolled with `lax.scan`.

Each cell is a pure function `cell(params, carry, x) -> (carry, h)` on
parameters laid out as Flax's cell of the same kind (so Flax's initialisers
serve, and tests can hold the arithmetic to Flax's):

  rnn   h' = tanh(W_i x + b + W_h h)
  gru   r = σ(W_ir x + b_ir + W_hr h)           reset gate
        z = σ(W_iz x + b_iz + W_hz h)           update gate
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        h' = (1 − z) ⊙ n + z ⊙ h
  lstm  i, f, o = σ(W_i· x + W_h· h + b_h·),  g = tanh(W_ig x + W_hg h + b_hg)
        c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')    (carry (c, h))

A dense layer's parameters are {'kernel': [in, out], 'bias': [out]}.
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def _dense(layer, x):
  y = x @ layer['kernel']
  return y + layer['bias'] if 'bias' in layer else y


def rnn_cell(params, h, x):
  h = jnp.tanh(_dense(params['i'], x) + _dense(params['h'], h))
  return h, h


def gru_cell(params, h, x):
  r = jax.nn.sigmoid(_dense(params['ir'], x) + _dense(params['hr'], h))
  z = jax.nn.sigmoid(_dense(params['iz'], x) + _dense(params['hz'], h))
  n = jnp.tanh(_dense(params['in'], x) + r * _dense(params['hn'], h))
  h = (1.0 - z) * n + z * h
  return h, h


def lstm_cell(params, carry, x):
  c, h = carry
  i = jax.nn.sigmoid(_dense(params['ii'], x) + _dense(params['hi'], h))
  f = jax.nn.sigmoid(_dense(params['if'], x) + _dense(params['hf'], h))
  g = jnp.tanh(_dense(params['ig'], x) + _dense(params['hg'], h))
  o = jax.nn.sigmoid(_dense(params['io'], x) + _dense(params['ho'], h))
  c = f * c + i * g
  h = o * jnp.tanh(c)
  return (c, h), h


CELLS = {'rnn': (rnn_cell, nn.SimpleCell), 'gru': (gru_cell, nn.GRUCell),
         'lstm': (lstm_cell, nn.LSTMCell)}


def flax_cell(kind: str, hidden_size: int) -> nn.RNNCellBase:
  return CELLS[kind][1](features=hidden_size)


def init_cell(kind: str, key, input_size: int, hidden_size: int):
  """Parameters from Flax's initialisers for that cell kind."""
  cell = flax_cell(kind, hidden_size)
  carry = zero_carry(kind, 1, hidden_size)
  return cell.init(key, carry, jnp.zeros((1, input_size)))['params']


def with_gate_bias(kind: str, params, bias: float):
  """The keep gate's bias set to `bias`: the LSTM's forget gate (its bias sits
  on the recurrent dense 'hf'), the GRU's update gate z (on 'iz')."""
  layer = {'lstm': 'hf', 'gru': 'iz'}[kind]
  return {**params, layer: {**params[layer], 'bias': jnp.full_like(params[layer]['bias'], bias)}}


def zero_carry(kind: str, batch: int, hidden_size: int):
  h = jnp.zeros((batch, hidden_size))
  return (h, h) if kind == 'lstm' else h


def unroll(kind: str, params, carry, xs_BTC, reverse: bool = False):
  """Runs the cell over time: (final carry, hidden states [B, T, H])."""
  cell = CELLS[kind][0]
  carry, hs_TBH = jax.lax.scan(lambda c, x: cell(params, c, x), carry,
                               jnp.swapaxes(xs_BTC, 0, 1), reverse=reverse)
  return carry, jnp.swapaxes(hs_TBH, 0, 1)


def hidden_state_gradients(kind: str, params, xs_BTC, readout, hidden_size: int):
  """‖∂L/∂h_t‖ for every t (mean over the batch), L = readout(h_T): how much the
  loss at the end can still feel each earlier state. Computed as the gradient
  with respect to a zero perturbation added to every h_t."""
  batch, steps, _ = xs_BTC.shape
  cell = CELLS[kind][0]

  def loss(perturbations_TBH):
    def step(carry, inputs):
      x, delta = inputs
      carry, _ = cell(params, carry, x)
      carry = (carry[0], carry[1] + delta) if kind == 'lstm' else carry + delta
      return carry, None
    carry, _ = jax.lax.scan(step, zero_carry(kind, batch, hidden_size),
                            (jnp.swapaxes(xs_BTC, 0, 1), perturbations_TBH))
    h = carry[1] if kind == 'lstm' else carry
    return readout(h)

  grads_TBH = jax.grad(loss)(jnp.zeros((steps, batch, hidden_size)))
  return jnp.linalg.norm(grads_TBH, axis=-1).mean(-1)
