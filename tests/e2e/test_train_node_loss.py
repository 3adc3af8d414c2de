"""A Ray node removed mid-run while a self-play actor lives on it: a custom resource
(``loop.actor_resource``) pins one actor to each of two nodes, the worker node goes, and the run
completes with that actor replaced on the surviving node (its pin dropped: the only node left that
declares the resource has no free unit), every stored game kept once and counted once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from alphazero.config.run import load_config
from alphazero.game_record import GameRecord
from alphazero.train.metrics import read_metrics
from alphazero.train.run_dir import RunDir

pytestmark = pytest.mark.slow

MAX_GENERATIONS = 200  # an upper bound: the test stops the run once the replaced actor delivered
REPLACEMENT_DEADLINE_S = 400


def stored_ids(run: RunDir) -> list[str]:
    return [GameRecord.load_npz(p).game_id for p in sorted(run.replay.glob("*.npz"))]


def add_node_patiently(cluster, **node_args):
    """``cluster.add_node``, once more if the raylet missed Ray's fixed 30 s start-up wait (a loaded
    machine); a node of the failed try that registers late is one too many, and the test says so."""
    try:
        node = cluster.add_node(**node_args)
    except Exception as e:  # noqa: BLE001 - Ray raises a bare Exception for this timeout
        if "timed out during startup" not in str(e):
            raise
        node = cluster.add_node(**node_args)
    cluster.wait_for_nodes()
    return node


@pytest.mark.serial  # a Ray cluster of its own, waiting on a replacement actor's first game
def test_node_with_a_pinned_selfplay_actor_removed_mid_run(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    from alphazero.train.loop import train

    root = tmp_path / "run"
    run = RunDir(root)
    # Games of 10 moves (two tasks): the replaced actor finishes games soon after it starts.
    config = load_config("tiny-cpu", overrides=["loop.selfplay_actors=2", "loop.actor_resource=selfplay",
                                                "selfplay.max_game_moves=10"])
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")  # a loaded machine starts nodes slowly
    # One "selfplay" unit per node: each node gets exactly one self-play actor.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 3, "resources": {"selfplay": 1},
                                                            "include_dashboard": False})
    worker = add_node_patiently(cluster, num_cpus=2, resources={"selfplay": 1})
    ray.init(address=cluster.address, log_to_driver=False)
    assert sum(n["Alive"] for n in ray.nodes()) == 2, "a node of a failed start-up registered late"
    seen: dict = {}

    def remove_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and 1 not in run.generations():
            time.sleep(0.3)
        placements = [r for r in read_metrics(run.metrics_path) if r["kind"] == "placement"]
        if placements:
            actors = placements[0]["actors"]
            seen["on_worker"] = [name for name, a in actors.items() if a["node_id"] == worker.node_id]
        seen["ids_before"] = set(stored_ids(run))
        cluster.remove_node(worker)
        seen["removed_at"] = max(run.generations())
        # Run on until the removed actor's index delivered a game from a new incarnation (or the
        # deadline), then stop the run as Ctrl-C would: how fast a replacement starts depends on
        # the machine, a fixed generation count does not.
        pinned = [name for name in seen.get("on_worker", []) if name.startswith("selfplay-")]
        prefix = f"w{pinned[0].split('-')[1]}-" if len(pinned) == 1 else None
        first = {i.split("-")[1] for i in seen["ids_before"] if prefix and i.startswith(prefix)}
        deadline = time.monotonic() + REPLACEMENT_DEADLINE_S
        while prefix and time.monotonic() < deadline:
            if any(i.startswith(prefix) and i.split("-")[1] not in first for i in stored_ids(run)):
                break
            time.sleep(0.5)
        time.sleep(2.0)  # one more task's results, so the game counter is checked after a later add
        os.kill(os.getpid(), signal.SIGTERM)

    result: dict = {}
    thread = threading.Thread(target=remove_worker, daemon=True)
    thread.start()
    try:
        # train() installs signal handlers: it runs in this (main) thread.
        result["rc"] = train(config, root, address=cluster.address, wandb_mode="off", quiet=True, max_generations=MAX_GENERATIONS)
    finally:
        thread.join(timeout=60)
        ray.shutdown()
        cluster.shutdown()
    assert result.get("rc") == 0
    # The removal really hit a self-play actor (and only one of them).
    on_worker = [name for name in seen.get("on_worker", []) if name.startswith("selfplay-")]
    assert len(on_worker) == 1, f"actors on the removed node: {seen.get('on_worker')}"
    index = int(on_worker[0].split("-")[1])
    assert seen["removed_at"] < max(run.generations()) < MAX_GENERATIONS  # it trained on, and was stopped
    ids = stored_ids(run)
    assert len(ids) == len(set(ids)), "a game was stored twice"
    assert seen["ids_before"] <= set(ids), "a game stored before the removal was lost"
    state = json.loads(run.run_state_path.read_text())
    assert state["games"] == len(ids), "the game counter disagrees with the stored games"
    # The removed actor came back elsewhere and delivered games: a second incarnation of its index.
    first = {i.split("-")[1] for i in seen["ids_before"] if i.startswith(f"w{index}-")}
    later = {i.split("-")[1] for i in set(ids) - seen["ids_before"] if i.startswith(f"w{index}-")}
    assert later - first, f"actor {index} delivered no game after its node was removed ({first} -> {later})"
    records = read_metrics(run.metrics_path)
    faults = [r for r in records if r["kind"] == "fault" and r.get("actor") == index]
    assert faults, "the loss of the actor was not reported"
    # The driver saw the node go (not only a failed task) and named it; no other actor was touched.
    lost = [r for r in faults if r["error"] == "node lost"]
    assert [r["node"] for r in lost] == [worker.node_id], faults
    assert lost[0]["generation"] >= 1 and isinstance(lost[0]["pinned"], bool), lost
    # Its replacement is a new actor: its first games are not reported as a restart by Ray.
    assert "actor restarted" not in [r["error"] for r in faults], faults
    others = [r for r in records if r["kind"] == "fault" and r.get("actor") != index]
    assert not others, f"faults of actors that were not on the removed node: {others}"
    print(f"actor {index} on the removed node: faults {[(r['error'], r['generation']) for r in faults]}")
