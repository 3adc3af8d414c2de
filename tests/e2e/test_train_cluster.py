"""``alphazero train --address`` on a real Ray cluster started with ``ray start``: a head and a
second node as separate processes on the loopback address, each with its own port and temp dir,
and actors pinned to both nodes by custom resources. The cluster is stopped by killing the
``ray start --block`` process groups this test started (never a global ``ray stop``, which would
also stop other Ray instances on the machine)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from alphazero.train.metrics import read_metrics
from alphazero.train.run_dir import RunDir

pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).parent / "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RayNode:
    """One ``ray start --block`` in its own process group, so it and its children stop together."""

    def __init__(self, args: list[str], log_path: Path, env: dict) -> None:
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([RAY, "start", "--block", "--disable-usage-stats", *args], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # ray start --block stops its node's processes
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever of this group is left
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.log.close()


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (this cluster's temp dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def wait_for_nodes(address: str, count: int, env: dict, nodes: list[RayNode], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    probe = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
             "print(sum(n['Alive'] for n in ray.nodes()))")
    while time.monotonic() < deadline:
        for node in nodes:
            assert node.proc.poll() is None, f"ray start exited with {node.proc.returncode}: see {node.log.name}"
        out = subprocess.run([sys.executable, "-c", probe, address], capture_output=True, text=True, env=env, timeout=120)
        if out.returncode == 0 and out.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(2)
    raise AssertionError(f"the cluster at {address} did not reach {count} nodes")


@pytest.mark.serial  # two Ray nodes of 2 CPUs each: with another test beside it, a 2-generation run can end before a game's statistics are logged
def test_train_on_a_cluster_started_with_ray_start(tmp_path):
    # A short temp dir: Ray's socket paths must fit in 107 bytes.
    temp_dir = tempfile.mkdtemp(prefix="rt-", dir="/tmp")
    port = free_port()
    address = f"127.0.0.1:{port}"
    # Token authentication off: the token ray start makes would have to be handed to every client;
    # this cluster lives for one test on one machine.
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}, "RAY_AUTH_MODE": "disabled"}
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=2", "--num-gpus=0"]
    head = RayNode(["--head", f"--port={port}", f"--temp-dir={temp_dir}", "--include-dashboard=false",
                    *common,
                    "--resources=" + json.dumps({"learner_node": 1, "selfplay": 1})], tmp_path / "head.log", env)
    nodes = [head]
    try:
        wait_for_nodes(address, 1, env, nodes)
        nodes.append(RayNode([f"--address={address}", *common, "--resources=" + json.dumps({"selfplay": 1})],
                             tmp_path / "worker.log", env))
        wait_for_nodes(address, 2, env, nodes)
        root = tmp_path / "run"
        proc = subprocess.run(
            [sys.executable, "-m", "alphazero.cli", "train", "--address", address, "--preset", "tiny-cpu",
             "--run-dir", str(root), "--wandb", "off", "--quiet", "--max-generations", "2",
             "loop.selfplay_actors=2", "loop.actor_resource=selfplay", "loop.learner_resource=learner_node",
                 "loop.display_interval_s=0.5"],  # self-play statistics are logged once per display interval
            capture_output=True, text=True, timeout=900, env=env)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    finally:
        for node in reversed(nodes):
            node.stop()
        time.sleep(2)
        left = processes_mentioning(temp_dir)  # none, if stopping the process groups stopped everything
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    run = RunDir(root)
    assert run.generations() == [0, 1, 2]
    (placement,) = [r for r in read_metrics(run.metrics_path) if r["kind"] == "placement"]
    assert placement["pending"] == []
    nodes_seen = placement["nodes"]
    # Two nodes on this one machine (Ray reports the host's address for both).
    assert len(nodes_seen) == 2 and len({n["address"] for n in nodes_seen.values()}) == 1
    actors = placement["actors"]
    head_id = next(i for i, n in nodes_seen.items() if "learner_node" in n["resources"])
    worker_id = next(i for i in nodes_seen if i != head_id)
    assert actors["learner"]["node_id"] == head_id
    # One self-play actor on each node: each takes the one "selfplay" unit its node declares.
    assert {actors["selfplay-0"]["node_id"], actors["selfplay-1"]["node_id"]} == {head_id, worker_id}
    games = [r for r in read_metrics(run.metrics_path) if r["kind"] == "selfplay"]
    assert games, "no self-play statistics were logged"
    # Nothing of this cluster is left running (its processes all name its temp dir).
    assert all(node.proc.poll() is not None for node in nodes)
    assert left == [], f"processes of the cluster outlived its ray start: {left}"
    shutil.rmtree(temp_dir, ignore_errors=True)
