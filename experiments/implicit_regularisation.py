"""Run one implicit-regularisation study and check its expected results.

python -m experiments.implicit_regularisation \
    --config=experiments/configs/implicit_min_norm.py[:quick] --workdir=/tmp/min_norm

Prints claim | target | ours | pass and `reproduced K of N claims`; the records
and figures are in the workdir.
"""
from experiments import cli, study_main

if __name__ == '__main__':
  cli.run(study_main.main)
