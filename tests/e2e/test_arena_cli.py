"""``alphazero arena`` as a subprocess: a match against GNU Go, our own GTP engine as an external
player, clear errors, and a gauntlet with the IDA meter over a tiny run directory."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from alphazero.checkpoint import CheckpointMeta, save_checkpoint
from alphazero.config.network import network_preset
from alphazero.model import PolicyValueNet
from go_engine import features
from go_engine.rules import preset
from go_engine.sgf import read_sgf
from tests.records import synthetic_record

ARENA = [sys.executable, "-m", "alphazero.cli", "arena"]


def make_run(root: Path, generations=(0, 1, 2)) -> Path:
    """A run directory as the training loop leaves it: tiny 5x5 checkpoints and config.json."""
    for g in generations:
        torch.manual_seed(g)
        net = PolicyValueNet(network_preset("tiny"), features.num_planes(2))
        meta = CheckpointMeta(network=net.config, input_planes=net.in_planes, feature_version=features.FEATURE_VERSION,
                              history=2, board_sizes=(5,), generation=g)
        save_checkpoint(root / "models" / f"{g:06d}", net, meta)
    config = {"board_size": 5, "rules": preset("tromp-taylor").with_komi(0.5).to_dict(), "search": {"simulations": 4}}
    (root / "config.json").write_text(json.dumps(config))
    return root


def arena(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(ARENA + list(args), capture_output=True, text=True, timeout=timeout)


@pytest.mark.gnugo
def test_match_against_gnugo(cli_in_process, tmp_path):
    out = tmp_path / "m"
    proc = arena("random", "gtp:gnugo --mode gtp --level 0 --chinese-rules", "--games", "2", "--size", "9", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "0 wins, 2 losses, 0 draws for random" in proc.stdout
    sgfs = sorted((out / "games").glob("*.sgf"))
    assert len(sgfs) == 2 and read_sgf(sgfs[0]).white_player.startswith("gtp:gnugo")
    # The same command again resumes with nothing left to play (in this process: no new interpreter).
    again = cli_in_process("arena", "random", "gtp:gnugo --mode gtp --level 0 --chinese-rules", "--games", "2", "--size", "9",
                           "--out", str(out))
    assert again.returncode == 0 and "played now 0" in again.stdout


def test_our_gtp_engine_as_an_external_player(tmp_path):
    run = make_run(tmp_path / "run", generations=(0,))
    engine = f"gtp:python -m alphazero.cli gtp --checkpoint {run / 'models' / '000000'} --visits 4 --size 5"
    proc = arena(engine, "random", "--games", "2", "--size", "5", "--max-moves", "30",
                 "--move-timeout", "300", "--out", str(tmp_path / "m"))  # generous: a cold JIT cache compiles on move 1
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in (tmp_path / "m" / "results.jsonl").read_text().splitlines()]
    assert len(results) == 2
    assert all(r["reason"] in ("score", "move-cap", "resign") for r in results), results  # no forfeits


@pytest.mark.parametrize("args,message", [
    (["random"], "exactly two players"),
    (["random", "raw:/no/such/checkpoint"], "no such checkpoint"),
    (["random", "gnugo:12"], "level must be an integer"),
    (["random", "b=random", "--sprt", "0,35"], "--sprt"),
    (["random", "b=random", "--games", "0"], "--games must be >= 1"),
    (["--gauntlet", "/no/such/run"], "no such run directory"),
])
def test_errors_exit_2_with_a_message(cli_in_process, args, message):
    proc = cli_in_process("arena", *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_an_error_exits_2_from_the_command_line():
    """The same as a process: exit status 2 and the message, no traceback."""
    proc = arena("random", "raw:/no/such/checkpoint", timeout=120)
    assert proc.returncode == 2
    assert "no such checkpoint" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_gauntlet_with_ida_meter(tmp_path):
    run = make_run(tmp_path / "run")
    replay = run / "replay"
    replay.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        record = dataclasses.replace(synthetic_record(rng, 5, 2, 10, f"g{i}"), model_version=i % 3)
        record.save_npz(replay / f"{i:010d}_{i * 10:013d}.npz")
    proc = arena("--gauntlet", str(run), "--games", "2", "--max-moves", "16", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "anchored at random = 0" in proc.stdout and "IDA meter" in proc.stdout
    out = run / "arena"
    ratings = json.loads((out / "ratings.json").read_text())["ratings"]
    assert {"raw-g0", "raw-g2", "mcts-g2", "random"} <= set(ratings)
    summary = (out / "ida_summary.txt").read_text()
    assert "KL(search||net)" in summary
    # Three generations give at most two generation gains: the verdict cannot be a fixed point.
    assert summary.splitlines()[-1].startswith("Not at a fixed point: not enough data: need 3 generation gains"), summary
    kl_lines = [line for line in summary.splitlines() if line.strip().startswith(("0 ", "1 ", "2 "))]
    assert len(kl_lines) >= 3 and all("+-" in line for line in kl_lines[-3:])
    assert (out / "elo.png").read_bytes()[:4] == b"\x89PNG"
