"""The MCTS benchmark runs end to end as ``alphazero bench mcts`` on a tiny budget."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_mcts_cli_runs():
    cmd = [sys.executable, "-m", "alphazero.cli", "bench", "mcts", "--sizes", "5", "--batches", "1", "2", "--sims", "4", "--reference-sims", "4", "--network", "", "--reuse-steps", "6", "--reuse-games", "2"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "5x5  B=   2" in result.stdout and "x the reference" in result.stdout
    assert "reuse on" in result.stdout and "reuse saves" in result.stdout
