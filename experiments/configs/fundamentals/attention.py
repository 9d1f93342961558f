"""Attention and transformers: human-written dates ('tuesday, 24 november 2026',
'nov 24 26', '24/11/2026', ...) translated to ISO 8601 by a GRU encoder-decoder
with additive attention, the same with dot-product attention, and a 2-layer
transformer (4 heads, width 64, causal decoder); 20,000 training dates, 2,000
held-out dates (disjoint), Adam 3e-3 cosine-decayed, batch 128, 2,000 steps.

Command:
  python -m experiments.main --config=experiments/configs/fundamentals/attention.py --workdir=/tmp/dl_course/fundamentals_attention
Expected: reproduced 3 of 3 claims (exact-match accuracy of greedy decoding
on the 2,000 held-out dates >= 99 %: ours 100.0 / 100.0 / 100.0 %; both GRU
models are at 100 % after 500 steps, the transformer 95.1 % then; the task is
easy by design, the point is the attention maps; ~10 min on 2 busy cores).

Quick variant (CI):
  python -m experiments.main --config=experiments/configs/fundamentals/attention.py:quick --workdir=/tmp/dl_course/fundamentals_attention_quick
Expected: reproduced 3 of 3 claims (400 steps: >= 80 %; ours 100.0 / 100.0 /
88.2 %; ~2 min).
"""
from experiments.configs.common import study_config


def get_config(arg=None):
  return study_config(
      arg, 'attention',
      full=dict(optimizer=dict(learning_rate=3e-3),
                train=dict(batch_size=128, num_steps=2000, eval_every=500),
                models=('additive', 'dot', 'transformer'), train_examples=20_000,
                test_examples=2_000, hidden=64, num_heads=4, num_layers=2, num_figure_examples=4,
                target_accuracy=0.99),
      quick=dict(train=dict(num_steps=400, eval_every=200), target_accuracy=0.8))
