"""Attention written out: the two classic scores, multi-head attention, masks,
sinusoidal positions, and the two sequence-to-sequence models built on them.

  additive (Bahdanau et al. 2015)   score(q, k) = vᵀ tanh(W_q q + W_k k)
  dot product (Luong et al. 2015; scaled as in Vaswani et al. 2017)
                                    score(q, k) = (W_q q)·k / √d
  attention(q, K, V) = Σ_s softmax_s(score(q, k_s)) v_s, padded or future
  positions masked to −∞ before the softmax.

Models (Flax Linen, parameters passed explicitly; greedy decoding feeds each
output back in):
  RNNSeq2Seq   bidirectional GRU encoder, GRU decoder attending to the encoder
               states at every step (additive or dot-product score)
  Transformer  pre-LayerNorm encoder-decoder: multi-head self-attention,
               causal self-attention in the decoder, cross-attention
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

NEG_INF = -1e9  # finite, so a fully masked row gives a uniform softmax instead of NaN


def dot_product_attention(q, k, v, mask=None):
  """q [..., Tq, D], k and v [..., Tk, D], mask broadcastable to [..., Tq, Tk]
  (True = may attend). Returns (outputs [..., Tq, D], weights [..., Tq, Tk])."""
  scores = q @ jnp.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
  if mask is not None:
    scores = jnp.where(mask, scores, NEG_INF)
  weights = jax.nn.softmax(scores, axis=-1)
  return weights @ v, weights


def causal_mask(length: int):
  """[T, T], True on and below the diagonal: position t sees positions ≤ t."""
  return jnp.tril(jnp.ones((length, length), bool))


def padding_mask(tokens, pad: int = 0):
  """[B, 1, 1, Tk]: True where the key is a real token."""
  return (tokens != pad)[:, None, None, :]


def sinusoidal_positions(length: int, dim: int):
  """PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(same)."""
  positions = np.arange(length)[:, None]
  rates = 1.0 / 10000 ** (np.arange(0, dim, 2) / dim)
  table = np.zeros((length, dim), np.float32)
  table[:, 0::2] = np.sin(positions * rates)
  table[:, 1::2] = np.cos(positions * rates)
  return jnp.asarray(table)


class MultiHeadAttention(nn.Module):
  num_heads: int
  dim: int

  @nn.compact
  def __call__(self, queries, keys, mask=None):
    """queries [B, Tq, E], keys [B, Tk, E] -> ([B, Tq, dim], weights [B, H, Tq, Tk])."""
    head_dim = self.dim // self.num_heads

    def heads(x, name):  # [B, T, E] -> [B, H, T, head_dim]
      y = nn.Dense(self.dim, name=name)(x)
      return y.reshape(y.shape[:2] + (self.num_heads, head_dim)).transpose(0, 2, 1, 3)

    out, weights = dot_product_attention(heads(queries, 'query'), heads(keys, 'key'),
                                         heads(keys, 'value'), mask)
    out = out.transpose(0, 2, 1, 3).reshape(queries.shape[:2] + (self.dim,))
    return nn.Dense(self.dim, name='out')(out), weights


class AdditiveAttention(nn.Module):
  dim: int

  @nn.compact
  def __call__(self, query, keys, mask):
    """query [B, Q], keys [B, S, K], mask [B, S] -> (context [B, K], weights [B, S])."""
    scores = nn.Dense(1, use_bias=False, name='v')(jnp.tanh(
        nn.Dense(self.dim, name='query')(query)[:, None, :]
        + nn.Dense(self.dim, use_bias=False, name='key')(keys)))[..., 0]
    weights = jax.nn.softmax(jnp.where(mask, scores, NEG_INF), axis=-1)
    return jnp.einsum('bs,bsk->bk', weights, keys), weights


class DotAttention(nn.Module):
  @nn.compact
  def __call__(self, query, keys, mask):
    projected = nn.Dense(keys.shape[-1], use_bias=False, name='query')(query)
    out, weights = dot_product_attention(projected[:, None, :], keys, keys, mask[:, None, :])
    return out[:, 0], weights[:, 0]


class RNNSeq2Seq(nn.Module):
  input_vocab: int
  output_vocab: int
  hidden: int = 64
  score: str = 'additive'  # or 'dot'

  def setup(self):
    self.embed_in = nn.Embed(self.input_vocab, self.hidden)
    self.encoder = nn.Bidirectional(nn.RNN(nn.GRUCell(self.hidden)),
                                    nn.RNN(nn.GRUCell(self.hidden)))
    self.embed_out = nn.Embed(self.output_vocab, self.hidden)
    self.bridge = nn.Dense(self.hidden)
    self.cell = nn.GRUCell(self.hidden)
    self.attend = AdditiveAttention(self.hidden) if self.score == 'additive' else DotAttention()
    self.readout = nn.Dense(self.output_vocab)

  def encode(self, inputs):
    mask = inputs != 0
    lengths = mask.sum(-1)
    keys = self.encoder(self.embed_in(inputs), seq_lengths=lengths)
    # the decoder starts from the mean encoder state
    start = jnp.tanh(self.bridge((keys * mask[..., None]).sum(1) / lengths[:, None]))
    return keys, mask, start

  def step(self, h, token, keys, mask):
    context, weights = self.attend(h, keys, mask)
    h, _ = self.cell(h, jnp.concatenate([self.embed_out(token), context], -1))
    return h, self.readout(jnp.concatenate([h, context], -1)), weights

  def __call__(self, inputs, decoder_inputs):
    """Teacher forcing: logits [B, T, V] and attention weights [B, T, S]."""
    keys, mask, h = self.encode(inputs)
    logits, weights = [], []
    for t in range(decoder_inputs.shape[1]):
      h, logit, weight = self.step(h, decoder_inputs[:, t], keys, mask)
      logits.append(logit)
      weights.append(weight)
    return jnp.stack(logits, 1), jnp.stack(weights, 1)

  def greedy(self, inputs, length: int, bos: int):
    keys, mask, h = self.encode(inputs)
    token = jnp.full(inputs.shape[:1], bos, jnp.int32)
    tokens, weights = [], []
    for _ in range(length):
      h, logit, weight = self.step(h, token, keys, mask)
      token = logit.argmax(-1)
      tokens.append(token)
      weights.append(weight)
    return jnp.stack(tokens, 1), jnp.stack(weights, 1)


class TransformerLayer(nn.Module):
  num_heads: int
  dim: int
  cross: bool = False  # decoder layers attend to the encoder's output too

  @nn.compact
  def __call__(self, x, self_mask, memory=None, memory_mask=None):
    h, _ = MultiHeadAttention(self.num_heads, self.dim, name='self_attention')(
        nn.LayerNorm()(x), nn.LayerNorm()(x), self_mask)
    x = x + h
    weights = None
    if self.cross:
      h, weights = MultiHeadAttention(self.num_heads, self.dim, name='cross_attention')(
          nn.LayerNorm()(x), memory, memory_mask)
      x = x + h
    h = nn.Dense(4 * self.dim)(nn.LayerNorm()(x))
    return x + nn.Dense(self.dim)(nn.gelu(h)), weights


class Transformer(nn.Module):
  input_vocab: int
  output_vocab: int
  dim: int = 64
  num_heads: int = 4
  num_layers: int = 2

  def setup(self):
    self.embed_in = nn.Embed(self.input_vocab, self.dim)
    self.embed_out = nn.Embed(self.output_vocab, self.dim)
    self.encoder = [TransformerLayer(self.num_heads, self.dim) for _ in range(self.num_layers)]
    self.decoder = [TransformerLayer(self.num_heads, self.dim, cross=True)
                    for _ in range(self.num_layers)]
    self.norm_memory = nn.LayerNorm()
    self.norm_out = nn.LayerNorm()
    self.readout = nn.Dense(self.output_vocab)

  def encode(self, inputs):
    mask = padding_mask(inputs)
    x = self.embed_in(inputs) + sinusoidal_positions(inputs.shape[1], self.dim)
    for layer in self.encoder:
      x, _ = layer(x, mask)
    return self.norm_memory(x), mask

  def decode(self, decoder_inputs, memory, memory_mask):
    x = (self.embed_out(decoder_inputs)
         + sinusoidal_positions(decoder_inputs.shape[1], self.dim))
    weights = None
    for layer in self.decoder:
      x, weights = layer(x, causal_mask(decoder_inputs.shape[1]), memory, memory_mask)
    return self.readout(self.norm_out(x)), weights  # weights: the last layer's cross-attention

  def __call__(self, inputs, decoder_inputs):
    memory, mask = self.encode(inputs)
    logits, weights = self.decode(decoder_inputs, memory, mask)
    return logits, weights.mean(1)  # [B, T, S], averaged over heads

  def greedy(self, inputs, length: int, bos: int):
    memory, mask = self.encode(inputs)
    tokens = jnp.full(inputs.shape[:1] + (1,), bos, jnp.int32)
    for _ in range(length):
      logits, weights = self.decode(tokens, memory, mask)
      tokens = jnp.concatenate([tokens, logits[:, -1].argmax(-1)[:, None]], 1)
    return tokens[:, 1:], weights.mean(1)
