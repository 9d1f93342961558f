"""Every RL algorithm x environment target, with a table of final returns.

  python -m launch.rl            # quick variants (CI)
  python -m launch.rl --full     # published scale

Writes <workdir>/<run>/ (records, checkpoints, learning curves) and
<workdir>/summary.md. `python -m launch.reproduce rl` runs the same claims.
"""
from __future__ import annotations

import importlib
import pathlib
import sys
import time

from absl import app, flags

from dl_course.claims import Claim
from dl_course.rl.experiment import claims as experiment_claims
from dl_course.studies import load_summary
from experiments.config_docs import check_claim_count
from launch.watchdog import run_with_restarts
from launch.study_suite import define_suite_flags, finish_suite, suite_workdir

CONFIGS = {'ppo_cartpole': 'rl_ppo_cartpole', 'ppo_acrobot': 'rl_ppo_acrobot',
           'reinforce_cartpole': 'rl_reinforce_cartpole', 'dqn_cartpole': 'rl_dqn_cartpole',
           'es_cartpole': 'rl_es_cartpole', 'ppo_pendulum': 'rl_ppo_pendulum',
           'dqn_mountaincar': 'rl_dqn_mountaincar',
           'ppo_breakout_minatar': 'rl_ppo_breakout_minatar'}


def run_all(full: bool, workdir: pathlib.Path):
  """Each run in its own process, restarted if it stalls: jaxlib 0.10's CPU
  runtime was seen to hang now and then (WORKSPACE.md); a restarted run resumes
  from its checkpoint bit-identically."""
  claims, summaries, seconds = [], {}, {}
  for name, config_module in CONFIGS.items():
    module = importlib.import_module(f'experiments.configs.{config_module}')
    config = module.get_config(None if full else 'quick')
    start = time.perf_counter()
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    config_arg = f'experiments/configs/{config_module}.py' + ('' if full else ':quick')
    done = run_with_restarts([sys.executable, '-m', 'experiments.rl', f'--config={config_arg}',
                              f'--workdir={out}'])
    if done.returncode != 0:
      raise RuntimeError(f'{name} failed: {done.stderr.strip().splitlines()[-1:]}')
    summaries[name] = load_summary(out)
    seconds[name] = time.perf_counter() - start
    run_claims = experiment_claims(config, summaries[name])
    check_claim_count(config_module, full, run_claims)
    claims += run_claims
  return claims, summaries, seconds


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return run_all(full, workdir)[0]


def returns_table(summaries: dict, seconds: dict) -> str:
  lines = ['algorithm | environment | env steps | seeds | final return (mean ± std) | seconds',
           '---|---|---|---|---|---']
  for name, s in summaries.items():
    lines.append(f'{s["algorithm"]} | {s["env"]} | {s["total_env_steps"]:,} | {s["num_seeds"]} '
                 f'| {s["final_return"]:.1f} ± {s["final_return_std"]:.1f} '
                 f'| {seconds[name]:.0f}')
  return '\n'.join(lines)


def main(argv):
  del argv
  workdir = suite_workdir('rl_')
  claims_list, summaries, seconds = run_all(flags.FLAGS.full, workdir)
  finish_suite('RL', workdir, claims_list, seconds, returns_table(summaries, seconds) + '\n')


if __name__ == '__main__':
  define_suite_flags()
  app.run(main)
