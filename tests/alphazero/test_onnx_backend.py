"""The onnxruntime inference backend computes what torch computes (same weights, same inputs),
follows new weights, and reaches self-play from the config; torch's CPU path runs channels-last
with the same results as the plain layout."""

import numpy as np
import pytest
import torch

from alphazero.config.base import ConfigError
from alphazero.config.network import network_preset
from alphazero.config.run import load_config
from alphazero.evaluator import NetworkEvaluator
from alphazero.model import PolicyValueNet
from go_engine import features
from alphazero.train.actors import self_play_worker

pytest.importorskip("onnxruntime")


def _net(seed: int) -> PolicyValueNet:
    torch.manual_seed(seed)
    net = PolicyValueNet(network_preset("b6c64", blocks=3, channels=16, global_pool_channels=8), features.num_planes(2))
    for m in net.modules():  # non-trivial batch-norm statistics, so an export in training mode would differ
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    return net


def _inputs(n: int, b: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    planes = rng.standard_normal((b, features.num_planes(2), n, n)).astype(np.float32)
    legal = rng.random((b, n * n + 1)) < 0.7
    return planes, legal


def _reference(net: PolicyValueNet, planes, legal):
    """The plain-layout torch evaluator (GPU-style path) as the reference."""
    ev = NetworkEvaluator(net, "cpu")
    ev.channels_last = False
    ev.memory_format = torch.contiguous_format
    ev.model = ev.model.to(memory_format=torch.contiguous_format)
    ev.forward = ev.model
    return ev(planes, legal)


@pytest.mark.parametrize("n", [5, 9])
def test_onnxruntime_and_channels_last_match_plain_torch(n):
    net = _net(0)
    planes, legal = _inputs(n, 37, 1)
    ref_logits, ref_value, ref_aux = _reference(_net(0), planes, legal)
    for backend in ("torch", "onnxruntime"):
        ev = NetworkEvaluator(net if backend == "torch" else _net(0), "cpu", backend=backend, threads=1)
        logits, value, aux = ev(planes, legal)
        assert np.array_equal(logits == -1e9, ref_logits == -1e9)  # the same moves masked
        np.testing.assert_allclose(logits, ref_logits, atol=1e-4)
        np.testing.assert_allclose(value, ref_value, atol=1e-5)
        np.testing.assert_allclose(aux["ownership"], ref_aux["ownership"], atol=1e-5)
        np.testing.assert_allclose(aux["score"], ref_aux["score"], atol=1e-3)
        assert np.array_equal(np.argmax(logits, 1), np.argmax(ref_logits, 1))


def test_onnxruntime_follows_new_weights_and_a_second_board_size():
    ev = NetworkEvaluator(_net(0), "cpu", backend="onnxruntime", threads=1)
    planes, legal = _inputs(7, 8, 2)
    before = ev(planes, legal)[0]
    ev.load_state_dict(_net(1).state_dict())
    after = ev(planes, legal)[0]
    np.testing.assert_allclose(after, _reference(_net(1), planes, legal)[0], atol=1e-4)
    assert np.abs(after - before).max() > 1e-2  # the new weights are used, not the exported old ones
    planes9, legal9 = _inputs(9, 3, 3)
    np.testing.assert_allclose(ev(planes9, legal9)[0], _reference(_net(1), planes9, legal9)[0], atol=1e-4)


def test_onnxruntime_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="onnxruntime"):
        NetworkEvaluator(_net(0), "cpu", precision="bfloat16", backend="onnxruntime")
    with pytest.raises(ValueError, match="backend must be one of"):
        NetworkEvaluator(_net(0), "cpu", backend="tensorrt")
    with pytest.raises(ConfigError, match="inference_backend"):
        load_config("tiny-cpu", overrides=["loop.inference_backend=onnxruntime", "loop.inference_compile=true"])
    with pytest.raises(ConfigError, match="inference_backend"):
        load_config("tiny-cpu", overrides=["loop.inference_backend=tensorrt"])


def test_selfplay_with_onnxruntime_plays_games():
    config = load_config("tiny-cpu", overrides=["loop.inference_backend=onnxruntime", "selfplay.games_in_parallel=2",
                                                "selfplay.max_game_moves=6", "search.simulations=4", "search.gumbel_considered=2"])
    worker = self_play_worker(config, 0, device="cpu")
    assert worker.network.backend == "onnxruntime"
    weights = {k: v.numpy() for k, v in PolicyValueNet(config.network, features.num_planes(config.history)).state_dict().items()}
    records, stats = worker.run(0, weights, 40)
    assert records and stats.evaluations > 0
    assert all(np.isfinite(r.final_score) for r in records)


def test_gtp_plays_with_the_onnxruntime_backend_and_refuses_it_in_bfloat16(tmp_path):
    import subprocess
    import sys

    from alphazero.checkpoint import CheckpointMeta, save_checkpoint

    net = _net(0)
    meta = CheckpointMeta(network=net.config, input_planes=net.in_planes, feature_version=features.FEATURE_VERSION,
                          history=2, board_sizes=(5,), generation=0)
    save_checkpoint(tmp_path / "ckpt", net, meta)
    base = [sys.executable, "-m", "alphazero.cli", "gtp", "--checkpoint", str(tmp_path / "ckpt"), "--visits", "8", "--backend", "onnxruntime"]
    proc = subprocess.run(base, input="boardsize 5\nclear_board\ngenmove b\ngenmove w\nquit\n", capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    replies = [line for line in proc.stdout.splitlines() if line.startswith("=")]
    assert len(replies) == 5, proc.stdout
    assert all(m == "pass" or (m[0] in "ABCDE" and m[1:] in "12345") for m in (r[1:].strip() for r in replies[2:4]))
    refused = subprocess.run(base + ["--precision", "bfloat16"], input="quit\n", capture_output=True, text=True, timeout=600)
    assert refused.returncode != 0 and "onnxruntime" in refused.stderr and "Traceback" not in refused.stderr
