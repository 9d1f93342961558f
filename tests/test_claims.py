import io

from dl_course.claims import Claim, at_least, format_table, report


def test_at_least_formats_percent_and_decides():
  claim = at_least('acc', 0.9421, 0.94, unit=' %', scale=100, source='paper')
  assert claim == Claim('acc', '>= 94.0 % (paper)', '94.2 %', True)
  assert not at_least('acc', 0.9399, 0.94).passed


def test_table_ends_with_the_count_and_report_sets_the_exit_status():
  claims = [Claim('a', '>= 1', '2', True), Claim('b', '>= 1', '0', False)]
  assert format_table(claims).splitlines()[-1] == 'reproduced 1 of 2 claims'
  assert report(claims, io.StringIO()) == 1
  assert report(claims[:1], io.StringIO()) == 0
  assert report([], io.StringIO()) == 1
