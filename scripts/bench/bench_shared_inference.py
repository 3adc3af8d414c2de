"""Shared inference vs per-actor inference: self-play on a local Ray with 1, 2 and 4 self-play
actors (default preset ``9x9-cpu``: its network, search and games in parallel), each actor's leaves
evaluated by its own network (``loop.inference=per_actor``) or by one shared inference server that
batches the leaves of all actors (``shared``). Reports search leaves/s, network evaluations/s and
self-play positions (moves)/s for each, the server's mean batch, and the ratio shared / per-actor
measured in the same run; the modes alternate per actor count so a changing machine load hits both
alike. The actors are the real ``SelfPlayWorker`` (with the real ``RemoteEvaluator`` client and
``InferenceServer``), without the replay buffer: what is timed is self-play and its inference."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import ray
import torch

from alphazero.config.run import load_config
from alphazero.model import PolicyValueNet
from go_engine import features as F

MODES = ("per_actor", "shared")


@ray.remote
class BenchSelfPlay:
    """A ``SelfPlayWorker`` (its own network, or a shared server's client) counting the positions
    it has recorded, finished games and games in progress alike."""

    def __init__(self, config, index: int, threads: int, server, device: str) -> None:
        from go_engine import compiled
        from alphazero.train.inference import RemoteEvaluator
        from alphazero.train.actors import self_play_worker

        compiled.set_num_threads(threads)
        remote = RemoteEvaluator(server, "inference-server") if server is not None else None
        self.worker = self_play_worker(config, index, device, threads, remote)
        self.finished_positions = 0

    def run(self, version: int, weights: dict, steps: int) -> dict:
        records, stats = self.worker.run(version, weights, steps)
        self.finished_positions += sum(r.num_positions for r in records)
        in_progress = sum(len(log.planes) for log in self.worker.driver.logs)
        return {"leaves": stats.evaluations, "network_rows": stats.network_evaluations,
                "positions": self.finished_positions + in_progress, "games": len(records)}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(config, actors: int, seconds: float, weights_ref, device: str) -> dict:
    """Self-play of ``actors`` actors for ``seconds`` after one warm-up task each; on CUDA the
    actors (per_actor) or the servers (shared) split the one GPU evenly."""
    from alphazero.train.inference import InferenceServer, server_clients

    loop = config.loop
    servers = []
    if loop.inference == "shared":
        threads = int(np.ceil(loop.inference_server_cpus))
        gpus = 1.0 / loop.inference_servers if device == "cuda" else 0.0
        servers = [InferenceServer.options(num_cpus=loop.inference_server_cpus, num_gpus=gpus).remote(
            config, k, device, threads, len(c)) for k, c in enumerate(server_clients(loop))]
        ray.get([s.load_weights.remote(0, weights_ref) for s in servers])
    gpus = 1.0 / actors if device == "cuda" and not servers else 0.0
    handles = [BenchSelfPlay.options(num_cpus=loop.actor_cpus, num_gpus=gpus).remote(
        config, i, int(np.ceil(loop.actor_cpus)), servers[i % len(servers)] if servers else None,
        device if not servers else "cpu") for i in range(actors)]
    steps = loop.search_steps_per_task
    first = ray.get([h.run.remote(0, weights_ref, steps) for h in handles])  # warm-up: caches, first batches
    stats0 = [s.stats.remote() for s in servers]
    base = {"leaves": 0, "network_rows": 0, "games": 0, "positions": sum(f["positions"] for f in first)}
    base_servers = ray.get(stats0)
    totals = {"leaves": 0, "network_rows": 0, "games": 0}
    last_positions = {i: f["positions"] for i, f in enumerate(first)}
    start = time.perf_counter()
    pending = {h.run.remote(0, weights_ref, steps): i for i, h in enumerate(handles)}
    while pending:
        (ref,), _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(ref)
        out = ray.get(ref)
        for key in totals:
            totals[key] += out[key]
        last_positions[i] = out["positions"]
        if time.perf_counter() - start < seconds:
            pending[handles[i].run.remote(0, weights_ref, steps)] = i
    wall = time.perf_counter() - start
    result = {"actors": actors, "mode": loop.inference, "seconds": wall,
              "leaves_per_s": totals["leaves"] / wall, "network_per_s": totals["network_rows"] / wall,
              "positions_per_s": (sum(last_positions.values()) - base["positions"]) / wall, "games": totals["games"]}
    if servers:
        after = ray.get([s.stats.remote() for s in servers])
        calls = sum(a["calls"] - b["calls"] for a, b in zip(after, base_servers))
        rows = sum(a["rows"] - b["rows"] for a, b in zip(after, base_servers))
        requests = sum(a["requests"] - b["requests"] for a, b in zip(after, base_servers))
        result.update(mean_batch=rows / calls if calls else 0.0, requests_per_call=requests / calls if calls else 0.0)
    for h in handles + servers:
        ray.kill(h)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alphazero bench shared_inference", description=__doc__)
    parser.add_argument("--preset", default="9x9-cpu", help="run preset whose network, search and self-play are used")
    parser.add_argument("--actors", default="1,2,4", help="comma-separated self-play actor counts")
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per (mode, actors) after a warm-up task")
    parser.add_argument("--servers", type=int, default=1, help="inference servers in shared mode")
    parser.add_argument("--server-cpus", type=float, default=1.0, help="CPUs (torch threads) per inference server")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the networks run")
    parser.add_argument("--cpus", type=int, default=0, help="CPUs Ray declares (0: enough for every actor and server)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("overrides", nargs="*", help="config overrides a.b=c (e.g. selfplay.games_in_parallel=32)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(x) for x in args.actors.split(",")]
    if not counts or min(counts) < 1:
        raise SystemExit("--actors: positive actor counts, comma-separated")
    base = load_config(args.preset, overrides=args.overrides)
    loop = base.loop
    cpus = args.cpus or int(max(counts) * np.ceil(loop.actor_cpus) + args.servers * np.ceil(args.server_cpus))
    print(f"bench shared_inference: preset {args.preset}, {base.board_size}x{base.board_size}, "
          f"{base.selfplay.games_in_parallel} games per actor, {base.search.simulations} simulations, "
          f"{loop.search_steps_per_task} steps per task, {args.seconds:.0f} s per measurement, device {args.device}, "
          f"{base.loop.inference_precision}")
    print(f"  CPU: {cpu_name()}, {os.cpu_count()} cores; Ray declares {cpus} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    if __name__ != "__main__":  # loaded by `alphazero bench` from a file: workers cannot import it by name
        from ray import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(address="local", num_cpus=cpus, num_gpus=1 if args.device == "cuda" else 0, include_dashboard=False, log_to_driver=False,
             _system_config={"prestart_worker_first_driver": False})
    results = []
    try:
        torch.manual_seed(0)
        model = PolicyValueNet(base.network, F.num_planes(base.history))
        weights_ref = ray.put({k: v.numpy() for k, v in model.state_dict().items()})
        print(f"  {'actors':>6} {'mode':>10} {'leaves/s':>10} {'network/s':>10} {'positions/s':>12} "
              f"{'mean batch':>11} {'req/call':>9} {'vs per_actor':>13}")
        for actors in counts:
            per_actor = None
            for mode in MODES:
                config = load_config(args.preset, overrides=args.overrides + [
                    "loop.actor_gpus=0", f"loop.selfplay_actors={actors}", f"loop.inference={mode}",
                    f"loop.inference_servers={min(args.servers, actors)}", f"loop.inference_server_cpus={args.server_cpus}"])
                r = measure(config, actors, args.seconds, weights_ref, args.device)
                results.append(r)
                if mode == "per_actor":
                    per_actor = r
                ratio = (f"{r['positions_per_s'] / per_actor['positions_per_s']:.2f}x"
                         if mode == "shared" and per_actor and per_actor["positions_per_s"] else "")
                batch = f"{r['mean_batch']:.1f}" if "mean_batch" in r else ""
                per_call = f"{r['requests_per_call']:.2f}" if "requests_per_call" in r else ""
                print(f"  {actors:>6} {mode:>10} {r['leaves_per_s']:>10.0f} {r['network_per_s']:>10.0f} "
                      f"{r['positions_per_s']:>12.1f} {batch:>11} {per_call:>9} {ratio:>13}", flush=True)
    finally:
        ray.shutdown()
    print("  leaves/s: search leaves evaluated (cache hits included); network/s: rows the network computed;")
    print("  positions/s: moves played (recorded positions), finished games and games in progress alike")
    if args.json is not None:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(), "preset": args.preset,
                                         "overrides": args.overrides, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
