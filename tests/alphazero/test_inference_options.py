"""Inference precision and torch.compile reach the network from the config (self-play) and the
command line (GTP, whose analysis commands share its evaluator, and the JSON analysis engine), and
work on the CPU."""

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from alphazero import analysis_cli
from alphazero.config.run import load_config
from alphazero.model import PolicyValueNet
from go_engine import features
from alphazero.train.actors import self_play_worker
from tests.alphazero.tiny_checkpoint import make_checkpoint


@pytest.mark.parametrize("precision, expected", [("bfloat16", torch.bfloat16), ("float16", torch.float32),
                                                 ("float32", torch.float32)])
def test_selfplay_worker_takes_precision_and_compile_from_the_config(precision, expected):
    config = load_config("tiny-cpu", overrides=[f"loop.inference_precision={precision}", "loop.inference_compile=true"])
    worker = self_play_worker(config, 0, device="cpu")
    assert worker.evaluator.dtype == expected  # float16 needs CUDA: a CPU actor falls back to float32
    assert worker.evaluator.compiled


def test_selfplay_in_bfloat16_on_the_cpu_plays_games():
    config = load_config("tiny-cpu", overrides=["loop.inference_precision=bfloat16", "selfplay.games_in_parallel=2",
                                                "selfplay.max_game_moves=6", "search.simulations=4", "search.gumbel_considered=2"])
    worker = self_play_worker(config, 0, device="cpu")
    weights = {k: v.numpy() for k, v in PolicyValueNet(config.network, features.num_planes(config.history)).state_dict().items()}
    records, stats = worker.run(0, weights, 40)
    assert records and stats.evaluations > 0
    assert all(np.isfinite(r.final_score) for r in records)


def test_gtp_plays_with_a_compiled_bfloat16_network_on_the_cpu(tmp_path):
    make_checkpoint(tmp_path / "ckpt", size=5)
    commands = "boardsize 5\nclear_board\ngenmove b\ngenmove w\nquit\n"
    proc = subprocess.run([sys.executable, "-m", "alphazero.cli", "gtp", "--checkpoint", str(tmp_path / "ckpt"),
                           "--visits", "8", "--precision", "bfloat16", "--compile"],
                          input=commands, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    replies = [line for line in proc.stdout.splitlines() if line.startswith("=")]
    assert len(replies) == 5, proc.stdout
    moves = [r[1:].strip() for r in replies[2:4]]
    assert all(m == "pass" or (m[0] in "ABCDE" and m[1:] in "12345") for m in moves), moves


@pytest.mark.parametrize("device, asked, runs", [
    ("cpu", ("float16", "torch", True), ("float32", "torch", True)),  # float16 kernels are CUDA's
    ("cpu", ("bfloat16", "torch", False), ("bfloat16", "torch", False)),
    ("cpu", ("bfloat16", "onnxruntime", False), ("float32", "onnxruntime", False)),  # onnxruntime: float32
    ("cuda", ("float16", "onnxruntime", False), ("float16", "torch", False)),  # the CPU build: torch on CUDA
    ("cuda", ("bfloat16", "torch", True), ("bfloat16", "torch", True)),
])
def test_inference_settings_fall_back_to_what_runs_on_the_device(device, asked, runs):
    from alphazero.evaluator import runnable_settings

    assert runnable_settings(device, *asked) == runs


def test_selfplay_worker_uses_the_configured_backend_with_its_fallback():
    config = load_config("tiny-cpu", overrides=["loop.inference_backend=onnxruntime", "loop.inference_precision=bfloat16"])
    worker = self_play_worker(config, 0, device="cpu")
    assert worker.network.backend == "onnxruntime" and worker.network.dtype == torch.float32


def _analysis_engine(checkpoint, *options):
    parser = argparse.ArgumentParser()
    analysis_cli.add_arguments(parser)
    results = []
    engine = analysis_cli.build_engine(parser.parse_args(["--checkpoint", str(checkpoint), "--visits", "8", *options]),
                                       results.append, lambda text: None)
    return engine, results


def test_the_analysis_engine_runs_a_compiled_bfloat16_network_on_the_cpu(tmp_path):
    make_checkpoint(tmp_path / "ckpt", size=5)
    engine, results = _analysis_engine(tmp_path / "ckpt", "--precision", "bfloat16", "--compile")
    assert engine.evaluator.dtype == torch.bfloat16 and engine.evaluator.compiled
    engine.submit(json.dumps({"id": "q", "moves": [["B", "C3"]], "rules": "chinese", "komi": 7.5, "boardXSize": 5,
                              "boardYSize": 5, "analyzeTurns": [1]}))
    engine.close_input()
    engine.run()
    final = [r for r in results if r.get("id") == "q" and r.get("isDuringSearch") is False]
    assert len(final) == 1 and final[0]["rootInfo"]["visits"] == 8, results
    assert all(np.isfinite(m["winrate"]) for m in final[0]["moveInfos"])
    with pytest.raises(ValueError, match="float16 inference needs CUDA"):
        _analysis_engine(tmp_path / "ckpt", "--precision", "float16")
    with pytest.raises(ValueError, match="onnxruntime"):
        _analysis_engine(tmp_path / "ckpt", "--backend", "onnxruntime", "--precision", "bfloat16")
