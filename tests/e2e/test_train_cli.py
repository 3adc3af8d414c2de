"""``alphazero train`` end to end: the real CLI as a subprocess on the tiny preset, resume after
SIGKILL of the driver and Ctrl-C of the resumed session, a Ray node removed mid-run, corrupt files,
a full disk. (A self-play actor killed mid-run: tests/e2e/test_train_shared_ray.py, with the
learner and the replay actor, on the cluster those runs share.)"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from alphazero.checkpoint import load_checkpoint
from alphazero.config.run import load_config
from alphazero.game_record import GameRecord
from alphazero.train.metrics import read_metrics
from alphazero.train.run_dir import RunDir
from tests.e2e.matches import match_score

TRAIN = [sys.executable, "-m", "alphazero.cli", "train"]

pytestmark = pytest.mark.slow


def run_train(args, timeout=600):
    proc = subprocess.run(TRAIN + args, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def game_ids(run: RunDir) -> list[str]:
    return [GameRecord.load_npz(p).game_id for p in sorted(run.replay.glob("*.npz"))]


LEARNED_GENERATION = 30


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> RunDir:
    """One 30-generation run of the tiny preset through the CLI, trained once: the learning test
    reads it as it is, the corrupt-files test corrupts a copy of it and resumes."""
    root = tmp_path_factory.mktemp("tiny") / "run"
    run_train(["--preset", "tiny-cpu", "--run-dir", str(root), "--wandb", "off", "--quiet", "--max-generations",
               str(LEARNED_GENERATION), "loop.learner_threads=2"])
    return RunDir(root)


def test_tiny_run_learns_and_writes_checkpoints_shards_metrics(tiny_run, tmp_path):
    run = tiny_run
    assert run.generations() == list(range(31))
    for g in run.generations():
        ckpt = load_checkpoint(run.model_dir(g))
        assert ckpt.meta.generation == g
    assert load_checkpoint(run.model_dir(30)).meta.samples_seen > 0
    ids = game_ids(run)
    assert len(ids) >= 3 and len(set(ids)) == len(ids)
    records = read_metrics(run.metrics_path)
    kinds = {r["kind"] for r in records}
    assert {"learner", "generation", "stop"} <= kinds
    gens = [r["generation"] for r in records if r["kind"] == "generation"]
    assert gens == list(range(1, 31))
    learner = [r for r in records if r["kind"] == "learner"]
    assert all(np.isfinite(r["loss/total"]) for r in learner)
    assert {r["threads"] for r in learner} == {2}  # loop.learner_threads, not the 1 reserved CPU
    state = json.loads(run.run_state_path.read_text())
    assert state["generation"] == 30 and state["positions"] >= len(ids)
    assert json.loads(run.config_path.read_text())["board_size"] == 5
    assert any(run.sgf.rglob("*.sgf"))
    heldout = sorted(p.name for p in run.heldout.iterdir())
    # A generation may end before any game it played finishes: most, not all, have records.
    assert heldout[0] == "000000" and len(heldout) >= 6, heldout
    assert all(len(list((run.heldout / g).glob("*.npz"))) <= 8 for g in heldout)
    # It learned: the newest network beats generation 0 with the same search budget (a seeded
    # match with colours alternating). Generation 30 scored 19/20 in each of three runs; at
    # generation 12 the score ranged from 14/20 to 18/20, too close to a threshold to test.
    score = match_score(run.model_dir(30), run.model_dir(0), "tromp-taylor", tmp_path / "match")
    assert score >= 16, f"generation 30 scored only {score}/20 against generation 0"


def test_bad_config_value_is_a_clear_error(cli_in_process, tmp_path):
    proc = subprocess.run(TRAIN + ["--preset", "tiny-cpu", "--run-dir", str(tmp_path / "r"), "search.simulations=0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "simulations must be in" in proc.stderr
    proc = cli_in_process("train", "--preset", "nope")
    assert proc.returncode == 2 and "unknown preset" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_resume_after_sigkill_of_the_driver_then_ctrl_c_drains(tmp_path):
    """The driver SIGKILLed mid-run; ``--resume`` goes on from the run directory with every game;
    then Ctrl-C of that resumed session drains it and writes a checkpoint (one run, two sessions)."""
    root = tmp_path / "run"
    run = RunDir(root)
    proc = subprocess.Popen(TRAIN + ["--preset", "tiny-cpu", "--run-dir", str(root), "--wandb", "off", "--quiet",
                                     "--max-generations", "50"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and 2 not in run.generations():
            time.sleep(0.5)
        assert 2 in run.generations(), "the run never reached generation 2"
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)  # the driver only, mid-run
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before_state = json.loads(run.run_state_path.read_text())
    before_ids = set(game_ids(run))
    before_gen = max(run.generations())
    # The resumed session runs until it has trained two more generations, then gets Ctrl-C as a
    # terminal sends it: SIGINT to the whole process group (the driver and the Ray processes).
    proc = subprocess.Popen(TRAIN + ["--resume", str(root), "--wandb", "off", "--quiet", "--max-generations", "1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and before_gen + 2 not in run.generations():
            time.sleep(0.3)
        assert before_gen + 2 in run.generations(), "the resumed run never trained two more generations"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-3000:]
    # The resume: a new session on the old counters, no game lost or recorded twice, learning went on.
    after_state = json.loads(run.run_state_path.read_text())
    assert after_state["sessions"] == before_state["sessions"] + 1
    assert after_state["positions"] > before_state["positions"]
    after_ids = game_ids(run)
    assert before_ids <= set(after_ids), "games stored before the kill were lost"
    assert len(after_ids) == len(set(after_ids)), "a game was recorded twice"
    meta = load_checkpoint(run.model_dir(before_gen + 2)).meta
    assert meta.parent is not None and meta.samples_seen > load_checkpoint(run.model_dir(before_gen)).meta.samples_seen
    # The drain: stopped by SIGINT, the newest generation checkpointed with nothing trained unpublished.
    stops = [r for r in read_metrics(run.metrics_path) if r["kind"] == "stop"]
    assert stops and stops[-1]["reason"] == "SIGINT"
    newest = max(run.generations())
    assert newest >= before_gen + 2
    assert after_state["generation"] == newest and after_state["steps_since_publish"] == 0
    assert load_checkpoint(run.model_dir(newest)).meta.generation == newest
    assert after_state["games"] == len(after_ids)


def _train_in_thread(config, root, address=None, max_generations=4):
    from alphazero.train.loop import train

    result = {}

    def target():
        try:
            result["rc"] = train(config, root, address=address, wandb_mode="off", quiet=True,
                                 max_generations=max_generations)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            result["error"] = e

    # train() installs signal handlers, which only the main thread may do: run it there and do
    # the fault injection from this helper thread instead.
    return target, result


def test_ray_node_removed_mid_run(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    root = tmp_path / "run"
    run = RunDir(root)
    config = load_config("tiny-cpu", overrides=["loop.selfplay_actors=2"])
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 3, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    seen: dict = {}  # the newest generation when the node was gone, and when the stop was sent

    def newest() -> int:
        return max(run.generations(), default=-1)

    def remove_worker_then_stop():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and newest() < 1:
            time.sleep(0.3)
        cluster.remove_node(worker)
        seen["removed"] = newest()
        # The run must go on without the node: two more generations, then a clean stop (SIGTERM),
        # sent at the deadline too so that a run that stalls fails here instead of hanging.
        while time.monotonic() < deadline and newest() < seen["removed"] + 2:
            time.sleep(0.3)
        seen["stopped"] = newest()
        os.kill(os.getpid(), signal.SIGTERM)

    remover = threading.Thread(target=remove_worker_then_stop, daemon=True)
    try:
        remover.start()
        target, result = _train_in_thread(config, root, address=cluster.address, max_generations=1000)
        target()
        remover.join(timeout=60)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert "error" not in result, result.get("error")
    assert not remover.is_alive() and "removed" in seen, seen
    assert seen["stopped"] >= seen["removed"] + 2, seen  # it trained on after losing the node
    assert max(run.generations()) >= seen["stopped"]
    ids = game_ids(run)
    assert len(ids) == len(set(ids))


def test_corrupt_checkpoint_and_shard_are_reported_and_skipped(tiny_run, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(tiny_run.root, root)  # the learning test reads the original
    run = RunDir(root)
    last = LEARNED_GENERATION
    newest = run.model_dir(last) / "model.safetensors"
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped byte: same size, wrong sha256
    newest.write_bytes(bytes(data))
    shards = sorted(run.replay.glob("*.npz"))
    shards[0].write_bytes(shards[0].read_bytes()[:100])  # truncated
    proc = run_train(["--resume", str(root), "--wandb", "off", "--quiet", "--max-generations", str(last + 1)])
    assert f"skipping checkpoint of generation {last}" in proc.stderr
    assert "skipped 1 unreadable or malformed shard(s)" in proc.stderr
    assert max(run.generations()) == last + 1  # the resumed session stops at its own --max-generations
    # The corrupt generation was redone from the one before and the next trained on top of it: both load now.
    for g in (last, last + 1):
        assert load_checkpoint(run.model_dir(g)).meta.generation == g
    assert load_checkpoint(run.model_dir(last)).meta.parent.endswith(f"{last - 1:06d}")


def test_full_disk_stops_the_run_with_a_clear_error_and_keeps_what_was_written(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    # About three generations of the tiny preset fit (a checkpoint is ~64 kB, the learner state
    # ~190 kB and written beside its previous copy).
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(disk)], capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {mount.stderr.strip()}")
    try:
        root = disk / "run"
        run = RunDir(root)
        proc = subprocess.run(TRAIN + ["--preset", "tiny-cpu", "--run-dir", str(root), "--wandb", "off", "--quiet",
                                       "--max-generations", "100"], capture_output=True, text=True, timeout=900)
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert "alphazero train: disk full, run stopped: no space left on the device holding" in proc.stderr, proc.stderr[-3000:]
        # What was written is intact: every shard loads; every checkpoint but a half-written newest one loads.
        ids = game_ids(run)
        assert ids and len(ids) == len(set(ids))
        generations = run.generations()
        good = run.latest_valid_generation()
        assert good is not None and good >= 1
        assert all(load_checkpoint(run.model_dir(g)).meta.generation == g for g in generations if g <= good)
        assert generations[-1] <= good + 1
        # With room again the run resumes from there and keeps every game.
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        run_train(["--resume", str(root), "--wandb", "off", "--quiet", "--max-generations", str(good + 1)])
        assert set(ids) <= set(game_ids(run))
        assert load_checkpoint(run.model_dir(good + 1)).meta.generation == good + 1
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
