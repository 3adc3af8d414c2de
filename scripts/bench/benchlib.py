"""Shared pieces of the training and inference benchmarks: device choice, timing, a reference net."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from alphazero.config.network import NetworkConfig


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_per_call(fn: Callable[[], object], device: torch.device, min_seconds: float, warmup: int = 2, min_calls: int = 2) -> float:
    """Seconds per call of ``fn`` after ``warmup`` calls, repeated for at least ``min_seconds``."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    calls, start = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - start < min_seconds:
        fn()
        calls += 1
    synchronize(device)
    return (time.perf_counter() - start) / calls


def reference_tower(config: NetworkConfig, in_planes: int) -> nn.Sequential:
    """A plain conv-BN-ReLU stack with the same convolutions as the tower (stem + 2 per block) and
    a 1x1 output: the floor any residual net of this size pays, without heads or pooling."""
    c = config.channels
    layers: list[nn.Module] = [nn.Conv2d(in_planes, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
    for _ in range(2 * config.blocks):
        layers += [nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
    layers.append(nn.Conv2d(c, 1, 1))
    return nn.Sequential(*layers)
