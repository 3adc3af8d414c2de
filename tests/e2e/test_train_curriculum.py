"""``alphazero train`` with a board-size curriculum, end to end: the real CLI as a subprocess on the
tiny preset (4x4 for two generations, then 5x5), SIGKILLed right after the size switch, resumed
from its run directory on the new size, and its final checkpoint playing 5x5 through GTP."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from alphazero.checkpoint import load_checkpoint
from alphazero.game_record import GameRecord
from alphazero.train.metrics import read_metrics
from alphazero.train.run_dir import RunDir

TRAIN = [sys.executable, "-m", "alphazero.cli", "train"]
GTP = [sys.executable, "-m", "alphazero.cli", "gtp"]
STAGES = "curriculum.stages=[{board_size=4,komi=1.5,until_generation=2},{board_size=5}]"

pytestmark = pytest.mark.slow


def records(run: RunDir) -> list[GameRecord]:
    return [GameRecord.load_npz(p) for p in sorted(run.replay.glob("*.npz"))]


def switched(run: RunDir) -> bool:
    return run.metrics_path.exists() and any(r["kind"] == "curriculum" for r in read_metrics(run.metrics_path))


def settled_ids(run: RunDir, quiet_s: float = 2.0, limit_s: float = 60.0) -> set[str]:
    """The stored game ids once no shard has appeared for ``quiet_s``: after the driver's SIGKILL,
    Ray's actors notice it only within a moment and a game in flight may still be written."""
    ids, since, deadline = set(), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        now = {r.game_id for r in records(run)}
        if now != ids:
            ids, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
        time.sleep(0.2)
    return ids


def test_curriculum_switches_size_survives_sigkill_and_ends_on_the_final_size(tmp_path):
    root = tmp_path / "run"
    run = RunDir(root)
    proc = subprocess.Popen(TRAIN + ["--preset", "tiny-cpu", "--run-dir", str(root), "--wandb", "off", "--quiet",
                                     "--max-generations", "50", STAGES],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not switched(run):
            time.sleep(0.2)
        assert switched(run), "the run never reached its second stage"
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its session's Ray, right after the switch
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    switch = next(r for r in read_metrics(run.metrics_path) if r["kind"] == "curriculum")
    assert (switch["stage"], switch["previous_stage"], switch["board_size"], switch["generation"]) == (1, 0, 5, 2)
    state = json.loads(run.run_state_path.read_text())
    assert state["stage"] == 1  # on disk at the switch, before the next generation
    before = settled_ids(run)
    assert before and all(r.board_size == 4 and r.komi == 1.5 for r in records(run) if r.game_id in before
                          and "-s0-" in r.game_id)
    assert all(load_checkpoint(run.model_dir(g)).meta.board_sizes == (4,) for g in (1, 2))

    # The resumed session goes on in stage 2 (5x5) to generation 5.
    resumed = subprocess.run(TRAIN + ["--resume", str(root), "--wandb", "off", "--quiet", "--max-generations", "5"],
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert "self-play 5x5 (stage 2/2)" in resumed.stderr and "4x4" not in resumed.stderr
    games = records(run)
    ids = [r.game_id for r in games]
    assert len(ids) == len(set(ids)) and before <= set(ids)
    new = [r for r in games if r.game_id not in before]
    assert new and all(r.board_size == 5 and r.komi == 0.5 and "-s1-" in r.game_id for r in new)
    assert {r.board_size for r in games} == {4, 5}
    metrics = read_metrics(run.metrics_path)
    assert [r["stage"] for r in metrics if r["kind"] == "curriculum"] == [1]  # switched once, never back
    learner = [r for r in metrics if r["kind"] == "learner"]
    assert set(learner[0]["batches_by_size"]) == {"4"}
    assert set(learner[-1]["batches_by_size"]) == {"5"}  # the learner moved on with self-play
    gens = [r for r in metrics if r["kind"] == "generation"]
    assert gens[-1]["generation"] == 5 and gens[-1]["board_size"] == 5 and gens[-1]["stage"] == 1
    final = load_checkpoint(run.model_dir(5))
    assert final.meta.board_sizes == (4, 5)
    assert json.loads(run.run_state_path.read_text())["stage"] == 1

    # The final network plays the run's board size.
    gtp = subprocess.run(GTP + ["--checkpoint", str(run.model_dir(5)), "--visits", "8", "--size", "5"],
                         input="boardsize 5\nclear_board\ngenmove b\ngenmove w\nquit\n",
                         capture_output=True, text=True, timeout=120)
    assert gtp.returncode == 0, gtp.stderr[-3000:]
    replies = re.findall(r"^= ?(.*)$", gtp.stdout, re.M)
    moves = replies[2:4]
    assert len(moves) == 2 and all(re.fullmatch(r"[A-E][1-5]|pass|resign", m, re.I) for m in moves), gtp.stdout
