"""A translation task that runs offline: human-written dates -> ISO 8601.

  'tuesday, 24 november 2026' | '24 nov 2026' | 'november 24, 2026' |
  '24/11/2026' | 'nov 24 26' | '24 november 2026'   ->   '2026-11-24'

Dates run from 1950-01-01 to 2049-12-31 (two-digit years: 50-99 -> 19xx).
Train and test dates are disjoint: a date whose day number is a multiple of
`TEST_EVERY` belongs to the test split, whatever its format. Tokens are
characters; 0 pads the input, and the decoder starts from BOS.
"""
from __future__ import annotations

import datetime

import jax.numpy as jnp
import numpy as np

INPUT_CHARS = ' ,/0123456789abcdefghijklmnopqrstuvwxyz'
OUTPUT_CHARS = '-0123456789'
PAD, BOS = 0, len(OUTPUT_CHARS) + 1  # output ids 1.. are OUTPUT_CHARS, BOS after them
INPUT_VOCAB, OUTPUT_VOCAB = len(INPUT_CHARS) + 1, len(OUTPUT_CHARS) + 2
INPUT_LENGTH, OUTPUT_LENGTH = 30, 10
TEST_EVERY = 10
FIRST = datetime.date(1950, 1, 1)
NUM_DAYS = (datetime.date(2049, 12, 31) - FIRST).days + 1
MONTHS = ('january', 'february', 'march', 'april', 'may', 'june', 'july', 'august',
          'september', 'october', 'november', 'december')
WEEKDAYS = ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')
FORMATS = (
    lambda d: f'{WEEKDAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year}',
    lambda d: f'{d.day} {MONTHS[d.month - 1][:3]} {d.year}',
    lambda d: f'{MONTHS[d.month - 1]} {d.day}, {d.year}',
    lambda d: f'{d.day:02d}/{d.month:02d}/{d.year}',
    lambda d: f'{MONTHS[d.month - 1][:3]} {d.day} {d.year % 100:02d}',
    lambda d: f'{d.day} {MONTHS[d.month - 1]} {d.year}',
)


def encode_input(text: str) -> np.ndarray:
  ids = [INPUT_CHARS.index(c) + 1 for c in text]
  return np.array(ids + [PAD] * (INPUT_LENGTH - len(ids)), np.int32)


def encode_output(text: str) -> np.ndarray:
  return np.array([OUTPUT_CHARS.index(c) + 1 for c in text], np.int32)


def decode_output(ids) -> str:
  return ''.join(OUTPUT_CHARS[i - 1] if 1 <= i <= len(OUTPUT_CHARS) else '?' for i in ids)


def make_split(split: str, num_examples: int, seed: int):
  """(inputs [N, INPUT_LENGTH], targets [N, OUTPUT_LENGTH], input texts)."""
  rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
  days = np.arange(NUM_DAYS)
  days = days[(days % TEST_EVERY == 0) == (split == 'test')]
  chosen = rng.choice(days, num_examples)
  formats = rng.integers(0, len(FORMATS), num_examples)
  texts, inputs, targets = [], [], []
  for day, fmt in zip(chosen, formats):
    date = FIRST + datetime.timedelta(days=int(day))
    text = FORMATS[fmt](date)
    texts.append(text)
    inputs.append(encode_input(text))
    targets.append(encode_output(date.isoformat()))
  return np.stack(inputs), np.stack(targets), texts


def decoder_inputs(targets: np.ndarray):
  """Teacher forcing: BOS then the target shifted right by one."""
  bos = jnp.full_like(targets[..., :1], BOS)
  return jnp.concatenate([bos, targets[..., :-1]], axis=-1)
