"""Run one fundamentals study and check its expected results.

python -m experiments.fundamentals \
    --config=experiments/configs/fundamentals_backprop.py[:quick] --workdir=/tmp/backprop

Prints claim | target | ours | pass and `reproduced K of N claims`; the records
and figures are in the workdir.
"""
from experiments import cli, study_main

if __name__ == '__main__':
  cli.run(study_main.main)
