"""The studies `python -m launch.reproduce <study>` knows: study name -> the
module with `claims(full, workdir) -> list[Claim]` (and, for suites of configs,
`CONFIGS = {run name: config module}`)."""
STUDIES = {
    'mnist1d': 'launch.mnist1d_table',
    'implicit_regularisation': 'launch.implicit_regularisation',
    'uncertainty': 'launch.uncertainty',
    'rl': 'launch.rl',
    'fundamentals': 'launch.fundamentals',
    'generative': 'launch.generative',
}
