"""TensorBoard event files beside metrics.jsonl, written without TensorFlow and
read back here by TensorBoard's own event reader; a resumed run shows each
step once."""
from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dl_course.engine.records import MetricWriter
from tests.helpers import classify_command, run

SHORT = ('--config.train.num_steps=400', '--config.train.eval_every=100',
         '--config.steps_per_dispatch=100', '--config.checkpoint_every=100')


def _scalars(workdir) -> dict:
  reader = EventAccumulator(str(workdir / 'tensorboard'), size_guidance={'scalars': 0})
  reader.Reload()
  return {tag: {e.step: e.value for e in reader.Scalars(tag)}
          for tag in reader.Tags()['scalars']}


def _count(workdir, tag) -> int:
  reader = EventAccumulator(str(workdir / 'tensorboard'), size_guidance={'scalars': 0})
  reader.Reload()
  return len(reader.Scalars(tag))


def test_the_writer_logs_every_number_and_a_restart_hides_what_it_logs_again(tmp_path):
  first = MetricWriter(tmp_path)
  first.truncate_after(0)
  for step in (10, 20, 30):
    first.write({'step': step, 'train/loss': 1.0 / step, 'test/accuracy': step / 100,
                 'note_flag': True})
  first.close()  # a run that stopped after step 30
  again = MetricWriter(tmp_path)
  again.truncate_after(10)  # resumed from the checkpoint at step 10
  for step in (20, 30):
    again.write({'step': step, 'train/loss': 2.0 / step, 'test/accuracy': step / 50})
  again.close()
  scalars = _scalars(tmp_path)
  assert set(scalars) == {'train/loss', 'test/accuracy'}  # numbers only: no flag
  assert scalars['train/loss'] == pytest.approx({10: 0.1, 20: 0.1, 30: 2 / 30})
  assert _count(tmp_path, 'test/accuracy') == 3
  lines = (tmp_path / 'metrics.jsonl').read_text().splitlines()
  assert [json.loads(line)['step'] for line in lines] == [10, 20, 30]


@pytest.mark.slow
def test_every_record_is_a_tensorboard_scalar_and_a_resume_shows_each_step_once(tmp_path):
  whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
  assert run(classify_command(whole, *SHORT)).returncode in (0, 3)  # 3: short of the claim
  records = [json.loads(line) for line in (whole / 'metrics.jsonl').read_text().splitlines()]
  scalars = _scalars(whole)
  for record in records:
    for key, value in record.items():
      if key != 'step':
        assert scalars[key][record['step']] == pytest.approx(value, rel=1e-6), key
  assert set(scalars) == {k for r in records for k in r} - {'step'}

  stopped = run(classify_command(resumed, *SHORT, '--max_chunks=2'))
  assert stopped.returncode == 0, stopped.stderr
  assert run(classify_command(resumed, *SHORT)).returncode in (0, 3)
  assert len(list((resumed / 'tensorboard').iterdir())) == 2  # one event file per process
  assert _scalars(resumed) == scalars
  assert _count(resumed, 'test/accuracy') == len([r for r in records if 'test/accuracy' in r])
