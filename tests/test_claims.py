import io

import pytest

from dl_course.claims import (CHECK, FINDING, Claim, as_quick, at_least, at_most, between,
                              format_table, report)


def test_at_least_formats_percent_and_decides():
  claim = at_least('acc', 0.9421, 0.94, unit=' %', scale=100, kind=FINDING,
                   published='95 % (paper, table 1)')
  assert claim == Claim('acc', '>= 94.0 %', '94.2 %', True, kind=FINDING,
                        published='95 % (paper, table 1)')
  assert not at_least('acc', 0.9399, 0.94, kind=FINDING).passed


def test_target_and_published_figure_are_separate_columns():
  """The target column holds only what the row tests; the paper's figure sits
  in its own column, so a row never appears to test a figure it does not."""
  claim = at_most('NLL', 120.0, 125.0, kind=FINDING, published='86.76 (Burda et al. 2016)')
  header, rule, line, *_ = format_table([claim]).splitlines()
  assert [c.strip() for c in header.split('|')] == [
      'claim', 'kind', 'target', 'published (source)', 'ours', 'pass']
  cells = [c.strip() for c in line.split('|')]
  assert cells == ['NLL', 'finding', '<= 125.0', '86.76 (Burda et al. 2016)', '120.0', 'pass']
  assert '86.76' not in claim.target


def test_kind_is_required_and_checked():
  with pytest.raises(TypeError):
    Claim('a', '>= 1', '2', True)  # pylint: disable=missing-kwoa
  with pytest.raises(ValueError, match='kind'):
    Claim('a', '>= 1', '2', True, kind='result')
  with pytest.raises(TypeError):
    between('x', 1.0, 0.0, 2.0)  # pylint: disable=missing-kwoa


def test_findings_and_checks_are_counted_apart():
  claims = [Claim('a', '>= 1', '2', True, kind=FINDING),
            Claim('b', '>= 1', '0', False, kind=FINDING),
            Claim('identity', '<= 1e-6', '1e-9', True, kind=CHECK)]
  lines = format_table(claims).splitlines()
  assert lines[-2] == 'checks (identities that fail only on a bug): 1 of 1 passed'
  assert lines[-1] == 'reproduced 1 of 2 claims'
  assert format_table(claims[:2]).splitlines()[-1] == 'reproduced 1 of 2 claims'
  assert 'checks' not in format_table(claims[:2])


def test_report_fails_on_a_failed_check_as_on_a_failed_finding():
  finding = Claim('a', '>= 1', '2', True, kind=FINDING)
  broken_check = Claim('identity', '<= 1e-6', '1e-2', False, kind=CHECK)
  assert report([finding], io.StringIO()) == 0
  assert report([finding, broken_check], io.StringIO()) == 1
  assert report([Claim('b', '>= 1', '0', False, kind=FINDING)], io.StringIO()) == 1
  assert report([], io.StringIO()) == 1


def test_quick_rows_say_so_in_their_target():
  quick = as_quick([at_least('acc', 0.9, 0.85, kind=FINDING, published='91 % (paper)')])
  assert quick[0].target == 'quick: >= 0.8'
  assert quick[0].published == '91 % (paper)'
