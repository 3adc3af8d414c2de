"""How a command that plays or analyses with a checkpoint runs its network: the command-line
options shared by ``alphazero gtp`` and ``alphazero analysis`` (device, precision, backend,
torch.compile), and the evaluator they give. Self-play takes the same settings from the config
(``loop.inference_*``)."""

from __future__ import annotations

import argparse


def add_inference_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="torch device for the network (cpu, cuda, cuda:1)")
    parser.add_argument("--precision", choices=["float32", "bfloat16", "float16"], default="float32",
                        help="network precision (float16 needs CUDA; bfloat16 runs on CPUs too)")
    parser.add_argument("--backend", choices=["torch", "onnxruntime"], default="torch",
                        help="what runs the network on the CPU: torch, or onnxruntime (float32, faster "
                             "for small networks; see alphazero bench infer)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the network (the first batch of each size pays the compile)")


def checkpoint_evaluator(args: argparse.Namespace):
    """``(NetworkEvaluator, CheckpointMeta)`` of ``args.checkpoint`` with the options above; a
    combination that cannot run (float16 on a CPU, onnxruntime with bfloat16) is a ValueError
    naming it."""
    from alphazero.evaluator import NetworkEvaluator

    return NetworkEvaluator.from_checkpoint(args.checkpoint, device=args.device, precision=args.precision,
                                            compile=args.compile, backend=args.backend)
