"""Shared inference (``loop.inference=shared``) on a real local Ray: the server answers each client
with exactly the rows of one network call on the batch it formed, games searched through the
server are the games per-actor inference plays with the same weights and seed, a server that lost
its weights gets them back from the client, and a tiny run with two actors sharing one server
completes with valid games and batches that took both actors' leaves."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
import ray
import torch
from ray import cloudpickle

from alphazero.config.run import load_config
from alphazero.evaluator import NetworkEvaluator
from alphazero.game_record import GameRecord
from alphazero.model import PolicyValueNet
from alphazero.train.metrics import read_metrics
from alphazero.train.run_dir import RunDir
from go_engine import features as F

pytestmark = pytest.mark.slow

SHARED = ["loop.inference=shared", "loop.selfplay_actors=2", "selfplay.resign_enabled=false"]

# The remote functions below run in Ray workers, which cannot import this file by its name.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def cluster():
    import ray

    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
    ray.init(address="local", num_cpus=6, include_dashboard=False, log_to_driver=False,
             _system_config={"prestart_worker_first_driver": False})
    try:
        yield ray
    finally:
        ray.shutdown()


def tiny_weights(config, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    model = PolicyValueNet(config.network, F.num_planes(config.history))
    return {k: v.numpy() for k, v in model.state_dict().items()}


def reference(config, weights: dict) -> NetworkEvaluator:
    """Per-actor inference with ``weights``, as a self-play worker builds it (one torch thread, as the
    server). Built inside a Ray worker, like a self-play actor's: oneDNN picks its kernels by the
    thread settings a process starts with, and a row's last bit may follow that choice."""
    torch.set_num_threads(1)
    model = PolicyValueNet(config.network, F.num_planes(config.history))
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    return NetworkEvaluator(model, max_batch=config.loop.inference_batch)


@ray.remote(num_cpus=1)
def per_actor_outputs(config, weights: dict, inputs: list) -> list:
    own = reference(config, weights)
    return [own(planes, legal) for planes, legal in inputs]


@ray.remote(num_cpus=1)
def play(config, weights: dict, seed: int, server=None) -> list:
    """Self-play games from ``seed`` with the worker's own network, or through ``server``."""
    from go_engine import compiled
    from alphazero.train.inference import RemoteEvaluator
    from selfplay.game_driver import SelfPlayDriver

    compiled.set_num_threads(1)
    if server is None:
        evaluator = reference(config, weights)
    else:
        torch.set_num_threads(1)
        evaluator = RemoteEvaluator(server, "inference-server")
        evaluator.set_weights(0, weights)
    driver = SelfPlayDriver(config.search, config.selfplay, config.rules, config.board_size, evaluator,
                            config.history, np.random.default_rng(seed), game_id_prefix="g")
    return driver.play(num_games=4, max_steps=400)


def leaves(config, b: int, seed: int):
    n, c = config.board_size, F.num_planes(config.history)
    rng = np.random.default_rng(seed)
    return (rng.random((b, c, n, n)) < 0.3).astype(np.float32), rng.random((b, n * n + 1)) < 0.8


def assert_same(out, want) -> None:
    for got, expected in zip((out[0], out[1], out[2]["ownership"], out[2]["score"]),
                             (want[0], want[1], want[2]["ownership"], want[2]["score"])):
        np.testing.assert_array_equal(got, expected)


def test_server_outputs_equal_per_actor_inference(cluster):
    from alphazero.train.inference import InferenceServer, RemoteEvaluator

    config = load_config("tiny-cpu", overrides=SHARED + ["loop.inference_wait_ms=1000"])
    weights = tiny_weights(config)
    server = InferenceServer.remote(config, 0, "cpu", 1, 2)
    assert ray.get(server.load_weights.remote(3, weights)) == 3
    # Two clients' requests: the deadline is a second away, the call goes when both are waiting.
    p0, l0 = leaves(config, 5, 0)
    p1, l1 = leaves(config, 3, 1)
    out0, out1 = ray.get([server.evaluate.remote(p0, l0, 3), server.evaluate.remote(p1, l1, 3)])
    # Each client gets exactly its rows of one network call on the batch the server formed ...
    both, alone = ray.get(per_actor_outputs.remote(config, weights, [(np.concatenate([p0, p1]), np.concatenate([l0, l1])),
                                                                     (p0, l0)]))
    assert_same(out0, (both[0][:5], both[1][:5], {k: v[:5] for k, v in both[2].items()}))
    assert_same(out1, (both[0][5:], both[1][5:], {k: v[5:] for k, v in both[2].items()}))
    # ... which is per-actor inference up to float32's last bit (CPU kernels are not batch-invariant).
    np.testing.assert_allclose(out0[0], alone[0], rtol=0, atol=1e-4)
    np.testing.assert_allclose(out0[1], alone[1], rtol=0, atol=1e-5)
    stats = ray.get(server.stats.remote())
    assert stats["calls"] == 1 and stats["requests"] == 2 and stats["flushed_all_clients"] == 1
    # A server without the client's version (e.g. restarted) gets the weights from the client.
    fresh = InferenceServer.remote(config, 1, "cpu", 1, 1)
    client = RemoteEvaluator(fresh, "inference-server")
    client.set_weights(7, weights)
    assert_same(client(p0, l0), alone)
    assert ray.get(fresh.stats.remote())["version"] == 7
    ray.kill(server)
    ray.kill(fresh)


def test_games_searched_through_the_server_are_the_per_actor_games(cluster):
    """Same weights, same seed, one client per server (so its batches are the actor's own): the
    server's answers are bit for bit the actor's own network's, hence the very same games."""
    from alphazero.train.inference import InferenceServer

    config = load_config("tiny-cpu", overrides=SHARED + ["selfplay.games_in_parallel=3", "selfplay.max_game_moves=12"])
    weights = tiny_weights(config, seed=1)
    server = InferenceServer.remote(config, 0, "cpu", 1, 1)
    ray.get(server.load_weights.remote(0, weights))
    mine, shared = ray.get([play.remote(config, weights, 11), play.remote(config, weights, 11, server)])
    assert len(mine) >= 4 and [r.game_id for r in mine] == [r.game_id for r in shared]
    for a, b in zip(mine, shared):
        np.testing.assert_array_equal(a.moves, b.moves)
        np.testing.assert_array_equal(a.policy, b.policy)
        np.testing.assert_array_equal(a.search_value, b.search_value)
        assert a.outcome == b.outcome
    assert ray.get(server.stats.remote())["rows"] > 0
    ray.kill(server)


def test_tiny_run_with_a_shared_server_completes_with_valid_games(cluster, tmp_path):
    from alphazero.train.loop import train

    root = tmp_path / "run"
    run = RunDir(root)
    config = load_config("tiny-cpu", overrides=SHARED)
    assert train(config, root, wandb_mode="off", quiet=True, max_generations=3) == 0
    assert run.generations() == [0, 1, 2, 3]
    records = [GameRecord.load_npz(p) for p in sorted(run.replay.glob("*.npz"))]  # validated on load
    ids = [r.game_id for r in records]
    assert len(ids) >= 4 and len(set(ids)) == len(ids)
    assert {i.split("-")[0] for i in ids} == {"w0", "w1"}  # both actors played through the server
    metrics = read_metrics(run.metrics_path)
    (placement,) = [r for r in metrics if r["kind"] == "placement"]
    assert placement["pending"] == [] and "inference-0" in placement["actors"]
    assert {placement["actors"][f"selfplay-{i}"]["device"] for i in range(2)} == {"inference-server"}
    learner = [r for r in metrics if r["kind"] == "learner"]
    assert learner and all(np.isfinite(r["loss/total"]) for r in learner)
    (inference,) = [r for r in metrics if r["kind"] == "inference"]
    (server,) = inference["servers"]
    assert server["version"] >= 1 and server["calls"] > 0  # took the published generations
    assert server["flushed_all_clients"] > 0 and server["mean_requests_per_call"] > 1.0  # both actors' leaves in one call
    state = json.loads(run.run_state_path.read_text())
    assert state["games"] == len(ids)
