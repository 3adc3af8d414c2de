"""``alphazero analysis`` as a subprocess: readiness on stderr, JSON lines in and out, a bad line
answered without stopping the engine, stdin EOF finishing the queued queries and exiting 0."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_analysis_cli_answers_queries_and_exits_at_eof():
    queries = [
        "not json",
        json.dumps({"id": "a", "moves": [["B", "E5"]], "rules": "tromp-taylor", "komi": 7.5, "boardXSize": 9,
                    "boardYSize": 9, "analyzeTurns": [0, 1], "maxVisits": 12, "includeOwnership": True}),
        json.dumps({"id": "v", "action": "query_version"}),
    ]
    proc = subprocess.run([sys.executable, "-m", "alphazero.cli", "analysis", "--stand-in", "area", "--visits", "12"],
                          input="\n".join(queries) + "\n", capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Started, ready to begin handling requests" in proc.stderr
    assert "error" not in proc.stderr.lower()  # KaTrain flags any stderr line containing "error"
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0].keys() == {"error"}
    finals = sorted(r["turnNumber"] for r in lines if r.get("id") == "a" and r.get("isDuringSearch") is False)
    assert finals == [0, 1]
    assert any(r.get("id") == "v" and "version" in r for r in lines)
    for r in lines:
        if "moveInfos" in r:
            assert r["rootInfo"]["visits"] == 12 and len(r["ownership"]) == 81
