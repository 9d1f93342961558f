"""The hand-in kit: student versions built from solution notebooks, and a grader
that runs each test of a submission in its own sandboxed process.

  markers.py  solution markers -> stubs; a notebook's code as one module
  sandbox.py  what confines a test process (limits, Landlock) and what the
              grader uses to leave no process behind
  runner.py   the test process itself (the only place submitted code runs)
  grader.py   grades submissions and writes points, feedback and tables
  peer.py     anonymised bundles for peer grading
"""
