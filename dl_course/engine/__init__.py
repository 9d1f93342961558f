"""The training engine: state, steps, mesh, feeding, loop, checkpoints, records."""
