"""Policy-value network: a residual tower with KataGo-style global pooling and four heads.

Inputs are feature planes ``[B, C, n, n]`` (from ``go_engine.features``), always from the point of
view of the side to move. Every layer is a convolution or a global pooling, so one set of weights
works for any board side 2..19; the pass logit comes from pooled features.

Outputs (``NetOutput``), all from the side to move's view, A = n*n + 1 with pass last:

- ``policy_logits`` ``[B, A]``: unmasked move logits (the evaluator masks illegal moves).
- ``value_logits`` ``[B, 3]``: win / loss / draw logits; value = P(win) - P(loss).
- ``ownership_logits`` ``[B, n*n]``: pre-activation ownership; ``tanh`` of it is the expected
  final owner of each point in [-1, 1] (+1 = side to move).
- ``score`` ``[B]``: expected final score margin in points (side to move minus opponent, komi
  included).
- ``opponent_policy_logits``, ``soft_policy_logits`` ``[B, A]``, only with
  ``NetworkConfig.aux_policy`` (else None): KataGo's auxiliary policy targets, for training only
  (the opponent's reply, i.e. the next position's search distribution; the search distribution
  raised to 1/T). Inference never reads them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from alphazero.config.network import NetworkConfig

WIN, LOSS, DRAW = 0, 1, 2  # order of the value head's outputs


class NetOutput(NamedTuple):
    policy_logits: torch.Tensor  # [B, A]
    value_logits: torch.Tensor  # [B, 3] win, loss, draw
    ownership_logits: torch.Tensor  # [B, n*n] pre-tanh
    score: torch.Tensor  # [B] points
    opponent_policy_logits: torch.Tensor | None = None  # [B, A], only with config.aux_policy
    soft_policy_logits: torch.Tensor | None = None  # [B, A], only with config.aux_policy


def global_pool(x: torch.Tensor) -> torch.Tensor:
    """``[B, C, n, n] -> [B, 3C]``: mean, mean scaled by board size, and max (as KataGo's
    ``KataGPool``). The scaled mean lets the same weights tell a 9x9 from a 19x19 board."""
    n = x.shape[-1]
    mean = x.mean(dim=(2, 3))  # [B, C]
    scaled = mean * ((n - 14.0) / 10.0)  # KataGo: (sqrt(area) - 14) / 10
    peak = x.amax(dim=(2, 3))  # [B, C]
    return torch.cat([mean, scaled, peak], dim=1)


def conv_bn(c_in: int, c_out: int, kernel: int) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(channels, channels, 3)
        self.conv2, self.bn2 = conv_bn(channels, channels, 3)
        nn.init.zeros_(self.bn2.weight)  # each block starts as the identity: stable deep towers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(x + h)


class GlobalPoolBlock(nn.Module):
    """Residual block whose first convolution gets a per-channel bias computed from pooled
    features of a side branch, so whole-board facts (ko fights, score) reach every point."""

    def __init__(self, channels: int, pool_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv_pool, self.bn_pool = conv_bn(channels, pool_channels, 3)
        self.pool_to_bias = nn.Linear(3 * pool_channels, channels, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = conv_bn(channels, channels, 3)
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x)  # [B, C, n, n]
        g = F.relu(self.bn_pool(self.conv_pool(x)))  # [B, G, n, n]
        h = h + self.pool_to_bias(global_pool(g))[:, :, None, None]
        h = F.relu(self.bn1(h))
        h = self.bn2(self.conv2(h))
        return F.relu(x + h)


AUX_POLICIES = 2  # the auxiliary policy outputs: opponent's reply, soft policy (in this order)


class PolicyHead(nn.Module):
    """Move logits from the head's features; after ``add_aux`` also the auxiliary policies' logits,
    which are KataGo's extra output channels of the same final layers. They are separate modules
    (``aux_to_logit``, ``aux_pass_logit``) so a network without them has exactly the tensors it
    had before: the same arithmetic as wider final layers, and old checkpoints keep their names."""

    def __init__(self, channels: int, head_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, head_channels, 1, bias=False)
        self.conv_pool, self.bn_pool = conv_bn(channels, head_channels, 1)
        self.pool_to_bias = nn.Linear(3 * head_channels, head_channels, bias=False)
        self.bn = nn.BatchNorm2d(head_channels)
        self.to_logit = nn.Conv2d(head_channels, 1, 1)
        self.pass_hidden = nn.Linear(3 * head_channels, head_channels)
        self.pass_logit = nn.Linear(head_channels, 1)
        self.aux = False

    def add_aux(self) -> None:
        """Create the auxiliary outputs (the network does so last, so that a seed initialises
        every other weight as it does without them)."""
        head_channels = self.to_logit.in_channels
        self.aux_to_logit = nn.Conv2d(head_channels, AUX_POLICIES, 1)
        self.aux_pass_logit = nn.Linear(head_channels, AUX_POLICIES)
        self.aux = True

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``[B, A]`` move logits (pass last) and ``[B, AUX_POLICIES, A]`` auxiliary logits (None
        without them)."""
        h = self.conv(x)  # [B, P, n, n]
        pooled = global_pool(F.relu(self.bn_pool(self.conv_pool(x))))  # [B, 3P]
        h = F.relu(self.bn(h + self.pool_to_bias(pooled)[:, :, None, None]))
        hidden = F.relu(self.pass_hidden(pooled))  # [B, P]
        board = self.to_logit(h).flatten(1)  # [B, n*n]
        pass_ = self.pass_logit(hidden)  # [B, 1]
        logits = torch.cat([board, pass_], dim=1)  # [B, A], pass last
        if not self.aux:
            return logits, None
        aux_board = self.aux_to_logit(h).flatten(2)  # [B, 2, n*n]
        aux_pass = self.aux_pass_logit(hidden)[:, :, None]  # [B, 2, 1]
        return logits, torch.cat([aux_board, aux_pass], dim=2)  # [B, 2, A]


class ValueHead(nn.Module):
    """Win/loss/draw and score from pooled features; ownership per point from the same convolution."""

    def __init__(self, channels: int, head_channels: int, hidden: int) -> None:
        super().__init__()
        self.conv, self.bn = conv_bn(channels, head_channels, 1)
        self.to_ownership = nn.Conv2d(head_channels, 1, 1)
        self.hidden = nn.Linear(3 * head_channels, hidden)
        self.to_value = nn.Linear(hidden, 3)
        self.to_score = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = x.shape[-1]
        v = F.relu(self.bn(self.conv(x)))  # [B, V, n, n]
        ownership_logits = self.to_ownership(v).flatten(1)  # [B, n*n]
        h = F.relu(self.hidden(global_pool(v)))  # [B, H]
        value_logits = self.to_value(h)  # [B, 3]
        # The raw output is in units of the board side, so one weight scale suits every size.
        score = self.to_score(h)[:, 0] * float(n)  # [B] points
        return value_logits, ownership_logits, score


class PolicyValueNet(nn.Module):
    """The network: stem, residual tower (some blocks with global pooling), four heads."""

    def __init__(self, config: NetworkConfig, in_planes: int) -> None:
        super().__init__()
        if in_planes < 1:
            raise ValueError(f"in_planes must be >= 1, got {in_planes}")
        self.config = config
        self.in_planes = in_planes
        c = config.channels
        self.stem_conv, self.stem_bn = conv_bn(in_planes, c, 3)
        pooled = set(config.pooled_block_indices())
        self.tower = nn.Sequential(
            *[GlobalPoolBlock(c, config.global_pool_channels) if i in pooled else ResidualBlock(c) for i in range(config.blocks)]
        )
        self.policy_head = PolicyHead(c, config.policy_head_channels)
        self.value_head = ValueHead(c, config.value_head_channels, config.value_hidden)
        if config.aux_policy:
            self.policy_head.add_aux()

    def forward(self, planes: torch.Tensor) -> NetOutput:
        """``planes`` ``[B, C, n, n]`` float -> ``NetOutput`` (see the module docstring)."""
        x = F.relu(self.stem_bn(self.stem_conv(planes)))  # [B, c, n, n]
        x = self.tower(x)
        policy_logits, aux = self.policy_head(x)
        value_logits, ownership_logits, score = self.value_head(x)
        if aux is None:
            return NetOutput(policy_logits, value_logits, ownership_logits, score)
        return NetOutput(policy_logits, value_logits, ownership_logits, score, aux[:, 0], aux[:, 1])


def scalar_value(value_logits: torch.Tensor) -> torch.Tensor:
    """``[B, 3]`` win/loss/draw logits -> ``[B]`` P(win) - P(loss) in [-1, 1]."""
    probs = torch.softmax(value_logits.float(), dim=-1)
    return probs[:, WIN] - probs[:, LOSS]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
