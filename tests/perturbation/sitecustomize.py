"""Test-only: in a `pytest --swap-near-ties` run, every Python process (the test run and each
server or CLI it starts) ranks near-tied passages the other way round.

Another machine's kernels move a fused score by up to the margin (docs/benchmarks.md, "Scores
across machines"); a test that fails here depends on a rank it does not own.
"""

import os

if os.environ.get("TEST_SWAP_NEAR_TIES"):
    from tests.perturbation.swap import install

    install(float(os.environ["TEST_SWAP_NEAR_TIES"]))
