"""Networks for tests: a seeded ``PolicyValueNet`` with its weights spread out (random
initialisation leaves zero-initialised residual branches and near-constant outputs, which would hide
the tower and make positions look alike)."""

from __future__ import annotations

import numpy as np
import torch

from alphazero.config.network import NetworkConfig, network_preset
from alphazero.model import PolicyValueNet


def spread_network(planes: int, network: NetworkConfig | None = None, seed: int = 0, scale: float = 0.2,
                   buffers: bool = False) -> PolicyValueNet:
    """``torch.manual_seed(seed)``, a network (default the ``tiny`` preset), then ``scale`` times a
    normal draw added to every parameter, or with ``buffers`` to every floating tensor of its
    state dict (batch-norm statistics too), in that order. Returned in train mode."""
    torch.manual_seed(seed)
    net = PolicyValueNet(network or network_preset("tiny"), planes)
    tensors = [t for t in net.state_dict().values() if t.is_floating_point()] if buffers else list(net.parameters())
    with torch.no_grad():
        for t in tensors:
            t.add_(scale * torch.randn_like(t))
    return net


def random_inputs(b: int, planes: int, n: int, seed: int = 0, legal_share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``b`` random binary inputs ``[b, planes, n, n]`` (30% ones) and legal masks ``[b, n*n+1]``
    with about ``legal_share`` of the points legal, pass always."""
    rng = np.random.default_rng(seed)
    x = (rng.random((b, planes, n, n)) < 0.3).astype(np.float32)
    legal = rng.random((b, n * n + 1)) < legal_share
    legal[:, -1] = True
    return x, legal
