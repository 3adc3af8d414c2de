"""Inference throughput: NetworkEvaluator positions/s at several batch sizes, against a plain conv
stack of the same size run the same way (same device, dtype, inference mode) in the same run."""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # "benchlib" when run as a file or via importlib

from benchlib import pick_device, reference_tower, time_per_call  # noqa: E402

from alphazero.config.network import network_preset  # noqa: E402
from alphazero.evaluator import DTYPES, NetworkEvaluator  # noqa: E402
from alphazero.model import PolicyValueNet, count_parameters  # noqa: E402
from go_engine import features  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alphazero bench infer", description=__doc__)
    parser.add_argument("--preset", default="b6c96", help="network preset")
    parser.add_argument("--board-size", type=int, default=9)
    parser.add_argument("--history", type=int, default=8, help="feature history length k")
    parser.add_argument("--batches", default="1,8,64,256,1024", help="comma-separated batch sizes")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum timed seconds per measurement")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--precision", default="auto", help="auto (bfloat16 on CUDA, else float32), float32, bfloat16, float16")
    parser.add_argument("--compile", action="store_true", help="torch.compile the network")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--backends", default="auto",
                        help="comma-separated evaluator backends (torch, onnxruntime); auto: both on the CPU, torch on CUDA")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    precision = args.precision if args.precision != "auto" else ("bfloat16" if device.type == "cuda" else "float32")
    n, c = args.board_size, features.num_planes(args.history)
    config = network_preset(args.preset)
    torch.manual_seed(0)
    model = PolicyValueNet(config, c)
    params = count_parameters(model)
    backends = (["torch", "onnxruntime"] if device.type == "cpu" and precision == "float32" and not args.compile else ["torch"]) \
        if args.backends == "auto" else args.backends.split(",")
    evaluators = {name: NetworkEvaluator(copy.deepcopy(model), device, precision, compile=args.compile and name == "torch",
                                         backend=name, threads=args.threads) for name in backends}
    reference = reference_tower(config, c).to(device, DTYPES[precision]).eval()
    print(f"bench infer: {args.preset} ({params} params), {n}x{n}, device {device}, {precision}, compile={args.compile}, threads {args.threads}")
    header = "".join(f" {name + ' pos/s':>18} {'ratio':>6}" for name in backends)
    print(f"  {'batch':>6}{header} {'reference pos/s':>16} {'same moves':>10}")
    rng = np.random.default_rng(0)
    for b in (int(x) for x in args.batches.split(",")):
        planes = (rng.random((b, c, n, n)) < 0.3).astype(np.float32)
        legal = rng.random((b, n * n + 1)) < 0.7

        def reference_call() -> None:
            with torch.inference_mode():
                x = torch.from_numpy(planes).to(device, DTYPES[precision])
                reference(x).float().cpu().numpy()

        theirs = time_per_call(reference_call, device, args.seconds)
        cells, moves = [], []
        for evaluator in evaluators.values():
            ours = time_per_call(lambda: evaluator(planes, legal), device, args.seconds)
            cells.append(f" {b / ours:>18.1f} {theirs / ours:>6.2f}")
            moves.append(np.argmax(evaluator(planes, legal)[0], axis=1))
        same = np.mean([np.array_equal(m, moves[0]) for m in moves[1:]]) if len(moves) > 1 else 1.0
        print(f"  {b:>6}{''.join(cells)} {b / theirs:>16.1f} {'yes' if same == 1.0 else 'NO':>10}")
    print("  ratio: evaluator pos/s over the reference's; same moves: every backend's argmax policy equals torch's")
    print("  reference: plain conv-BN-ReLU stack of the same convolutions (no heads), numpy in and out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
