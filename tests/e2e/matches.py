"""The "it learned" check of the e2e training tests: a seeded arena match between two checkpoints
of a run on 5x5 (real CLI subprocess), colours alternating, the same search budget on both sides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def match_score(a: Path, b: Path, rules: str, out: Path, games: int = 20, visits: int = 16) -> float:
    """``a``'s score (wins + half draws) in ``games`` games against ``b`` on 5x5, komi 0.5."""
    proc = subprocess.run([sys.executable, "-m", "alphazero.cli", "arena", f"mcts:{a}@{visits}", f"mcts:{b}@{visits}",
                           "--games", str(games), "--size", "5", "--komi", "0.5", "--rules", rules,
                           "--opening-moves", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == games
    return sum(r["score_a"] for r in results)
