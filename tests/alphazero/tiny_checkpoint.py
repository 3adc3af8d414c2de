"""A tiny network with seeded random weights saved as a real checkpoint (arena and evaluation tests)."""

from __future__ import annotations

from pathlib import Path

import torch

from alphazero.checkpoint import CheckpointMeta, save_checkpoint
from alphazero.config.network import NetworkConfig, network_preset
from alphazero.model import PolicyValueNet
from go_engine import features


def make_checkpoint(directory: Path, seed: int = 0, generation: int = 0, history: int = 2, size: int = 9,
                    network: NetworkConfig | None = None) -> Path:
    torch.manual_seed(seed)
    net = PolicyValueNet(network or network_preset("tiny"), features.num_planes(history))
    meta = CheckpointMeta(network=net.config, input_planes=net.in_planes, feature_version=features.FEATURE_VERSION,
                          history=history, board_sizes=(size,), generation=generation)
    save_checkpoint(directory, net, meta)
    return directory
