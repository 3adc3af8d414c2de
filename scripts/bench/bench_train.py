"""Training throughput: learner samples/s per preset, the replay buffer's sampling rate, and a plain
conv stack of the same size trained in the same run as the reference."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # "benchlib" when run as a file or via importlib
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))  # the checkout: its tests' synthetic records

from benchlib import pick_device, reference_tower, time_per_call  # noqa: E402

from alphazero.config.network import network_preset  # noqa: E402
from alphazero.config.trainer import ReplayConfig, TrainerConfig  # noqa: E402
from alphazero.model import PolicyValueNet, count_parameters  # noqa: E402
from go_engine import features  # noqa: E402
from trainer.learner import Learner  # noqa: E402
from tests.records import synthetic_record  # noqa: E402
from trainer.replay_buffer import ReplayBuffer  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alphazero bench train", description=__doc__)
    parser.add_argument("--presets", default="tiny,b6c96", help="comma-separated network presets")
    parser.add_argument("--board-size", type=int, default=9)
    parser.add_argument("--history", type=int, default=8, help="feature history length k")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds per measurement")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return parser.parse_args(argv)


def bench_buffer(n: int, history: int, batch_size: int, seconds: float, device: torch.device) -> float:
    """Positions/s of ReplayBuffer.sample (unpack + augment) from a buffer of 20k positions."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        buffer = ReplayBuffer(tmp, ReplayConfig(max_size=20_000, window_base=20_000, min_positions=1), n, history)
        for i in range(200):
            buffer.add(synthetic_record(rng, n, history, 100, f"bench-{i}"))
        seconds_per_batch = time_per_call(lambda: buffer.sample(batch_size, rng), torch.device("cpu"), seconds)
    return batch_size / seconds_per_batch


def bench_preset(name: str, n: int, history: int, batch_size: int, seconds: float, device: torch.device) -> tuple[float, float, int]:
    """(learner samples/s, reference samples/s, parameters)."""
    c = features.num_planes(history)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        buffer = ReplayBuffer(tmp, ReplayConfig(max_size=4_000, window_base=4_000, min_positions=1), n, history)
        for i in range(20):
            buffer.add(synthetic_record(rng, n, history, 100, f"bench-{i}"))
        batch = buffer.sample(batch_size, rng)
    torch.manual_seed(0)
    model = PolicyValueNet(network_preset(name), c)
    learner = Learner(model, TrainerConfig(batch_size=batch_size, warmup_steps=0), device)
    ours = time_per_call(lambda: learner.train_step(batch), device, seconds)

    reference = reference_tower(network_preset(name), c).to(device).train()
    optimizer = torch.optim.SGD(reference.parameters(), lr=1e-3, momentum=0.9)
    x = torch.from_numpy(batch.planes).to(device)
    target = torch.zeros(batch_size, 1, n, n, device=device)
    use_bf16 = device.type == "cuda"

    def reference_step() -> None:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            out = reference(x)
        loss = torch.nn.functional.mse_loss(out.float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()

    theirs = time_per_call(reference_step, device, seconds)
    return batch_size / ours, batch_size / theirs, count_parameters(model)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    precision = "bf16 autocast" if device.type == "cuda" else "float32"
    print(f"bench train: {args.board_size}x{args.board_size}, history {args.history}, batch {args.batch_size}, device {device} ({precision}), threads {args.threads}")
    rate = bench_buffer(args.board_size, args.history, args.batch_size, args.seconds, device)
    print(f"  replay sample (unpack + augment): {rate:12.0f} positions/s")
    print(f"  {'preset':<10} {'params':>10} {'learner/s':>12} {'reference/s':>12} {'ratio':>7}")
    for name in args.presets.split(","):
        ours, theirs, params = bench_preset(name.strip(), args.board_size, args.history, args.batch_size, args.seconds, device)
        print(f"  {name:<10} {params:>10d} {ours:>12.1f} {theirs:>12.1f} {ours / theirs:>7.2f}")
    print("  reference: plain conv-BN-ReLU stack of the same convolutions, MSE loss, SGD, same batch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
