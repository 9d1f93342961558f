"""Run one generative-models study and check its expected results.

python -m experiments.generative \
    --config=experiments/configs/generative_flows2d.py[:quick] --workdir=/tmp/flows2d

Prints claim | target | ours | pass and `reproduced K of N claims`; the records
and figures are in the workdir.
"""
from experiments import cli, study_main

if __name__ == '__main__':
  cli.run(study_main.main)
