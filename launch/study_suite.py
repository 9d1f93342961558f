"""Running a family of studies (quick or full) and writing their summary table.

A family is {study name: config module under experiments/configs}; each study
writes <workdir>/<study>/ and the family's claims are concatenated in order.
"""
from __future__ import annotations

import importlib
import pathlib
import time

from absl import app

from dl_course.claims import Claim
from dl_course.studies import run_study


def study_config(config_module: str, full: bool):
  module = importlib.import_module(f'experiments.configs.{config_module}')
  return module.get_config(None if full else 'quick')


def run_suite(configs: dict[str, str], full: bool, workdir: pathlib.Path,
              only: list[str] | None = None) -> tuple[list[Claim], dict]:
  unknown = sorted(set(only or []) - set(configs))
  if unknown:
    raise app.UsageError(f'--only has unknown studies {unknown}; allowed: {", ".join(configs)}')
  claims, seconds = [], {}
  for study, config_module in configs.items():
    if only and study not in only:
      continue
    start = time.perf_counter()
    out = workdir / study
    out.mkdir(parents=True, exist_ok=True)
    _, study_claims = run_study(study_config(config_module, full), out)
    seconds[study] = time.perf_counter() - start
    claims += study_claims
  return claims, seconds


def summary_markdown(title: str, claims: list[Claim], seconds: dict,
                     workdir: pathlib.Path) -> str:
  lines = [f'# {title}', '', '| claim | target | ours | pass |', '|---|---|---|---|']
  lines += [f'| {c.claim} | {c.target} | {c.ours} | {"pass" if c.passed else "FAIL"} |'
            for c in claims]
  passed = sum(c.passed for c in claims)
  lines += ['', f'reproduced {passed} of {len(claims)} claims', '',
            '| study | seconds | figures |', '|---|---|---|']
  for study, secs in seconds.items():
    figures = ', '.join(sorted(p.name for p in (workdir / study).glob('*.png')))
    lines.append(f'| {study} | {secs:.0f} | {figures} |')
  return '\n'.join(lines) + '\n'
