"""Loss terms and diagnostics of the learner, from network outputs and side-to-move targets.

- policy: cross-entropy against the search's distribution, averaged over full-search rows only;
- value: cross-entropy on win/loss/draw;
- ownership: per-point cross-entropy between (1 + target) / 2 and (1 + tanh(x)) / 2 = sigmoid(2x);
- score: Huber loss on the margin divided by the board side (one scale for every board size).
Ownership and score are averaged over the positions of settled games only: a resigned game's last
position still holds dead stones and open borders, so its area count is not the game's result.
With the network's auxiliary policy outputs (``NetworkConfig.aux_policy``), KataGo's two extra
policy targets (python/katago/train/metrics_pytorch.py, lightvector/KataGo):
- opponent policy: cross-entropy against the next position's search distribution (the opponent's
  reply), averaged over the rows whose next position is of the same game and had a full search;
- soft policy: cross-entropy against the search distribution raised to 1/T and renormalised
  (``soft_policy_target``), averaged over full-search rows. KataGo adds 1e-7 to every move first,
  which gives illegal moves mass; here a move the search gave 0 keeps 0.
Both are reported whenever the outputs exist, whatever their weights.
Weight decay is applied by the optimiser; ``l2_penalty`` reports its size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from alphazero.config.trainer import TrainerConfig
from alphazero.model import LOSS, WIN, NetOutput


def compute_losses(out: NetOutput, targets: dict[str, torch.Tensor], config: TrainerConfig) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``targets``: ``policy`` [B, A], ``full_search`` [B] bool, ``value_wdl`` [B, 3], ``score`` [B],
    ``ownership`` [B, n*n], ``settled`` [B] bool; with auxiliary policy outputs also
    ``opponent_policy`` [B, A] and ``opponent_valid`` [B] bool. Returns the weighted total and each
    unweighted term (float32 scalars)."""
    n = int(round(targets["ownership"].shape[1] ** 0.5))
    policy_logits = out.policy_logits.float()  # [B, A]
    policy_ce = -(targets["policy"] * F.log_softmax(policy_logits, dim=1)).sum(dim=1)  # [B]
    policy = _masked_mean(policy_ce, targets["full_search"])
    value = -(targets["value_wdl"] * F.log_softmax(out.value_logits.float(), dim=1)).sum(dim=1).mean()
    ownership_rows = F.binary_cross_entropy_with_logits(
        2.0 * out.ownership_logits.float(), (1.0 + targets["ownership"]) / 2.0, reduction="none"
    ).mean(dim=1)  # [B]
    ownership = _masked_mean(ownership_rows, targets["settled"])
    score = _masked_mean(F.smooth_l1_loss(out.score.float() / n, targets["score"] / n, reduction="none"), targets["settled"])
    total = config.policy_weight * policy + config.value_weight * value + config.ownership_weight * ownership + config.score_weight * score
    terms = {"policy": policy, "value": value, "ownership": ownership, "score": score}
    if out.opponent_policy_logits is not None:
        if "opponent_policy" not in targets:
            raise ValueError("the network has auxiliary policy outputs (network.aux_policy) but the batch carries no "
                             "opponent_policy target: sample from a ReplayBuffer made with opponent_policy=True")
        opponent_ce = -(targets["opponent_policy"] * F.log_softmax(out.opponent_policy_logits.float(), dim=1)).sum(dim=1)  # [B]
        soft = soft_policy_target(targets["policy"], config.soft_policy_temperature)  # [B, A]
        soft_ce = -(soft * F.log_softmax(out.soft_policy_logits.float(), dim=1)).sum(dim=1)  # [B]
        terms["opponent_policy"] = _masked_mean(opponent_ce, targets["opponent_valid"])
        terms["soft_policy"] = _masked_mean(soft_ce, targets["full_search"])
        total = total + config.opponent_policy_weight * terms["opponent_policy"] + config.soft_policy_weight * terms["soft_policy"]
    return total, terms


def soft_policy_target(policy: torch.Tensor, temperature: float) -> torch.Tensor:
    """``[B, A]`` p^(1/T) / sum: the search distribution flattened (KataGo's T = 4), so moves the
    search rated low still teach the network their order. All-zero rows (fast searches) stay 0."""
    soft = policy.float().clamp_min(0.0).pow(1.0 / temperature)
    return soft / soft.sum(dim=1, keepdim=True).clamp_min(1e-30)


def _masked_mean(rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``rows`` ([B]) over the rows where ``mask`` ([B] bool) holds: full-search rows for
    the policy, settled games for score and ownership. 0 when there are none; a where, not a
    product, so whatever a masked-out row holds (a NaN included) never reaches the result."""
    return torch.where(mask, rows, torch.zeros_like(rows)).sum() / mask.float().sum().clamp_min(1.0)


def l2_penalty(params: list[torch.Tensor], weight_decay: float) -> torch.Tensor:
    """weight_decay / 2 * sum |w|^2 over the decayed parameters (what SGD's decay minimises)."""
    return 0.5 * weight_decay * torch.stack([p.detach().float().pow(2).sum() for p in params]).sum()


def diagnostics(out: NetOutput, targets: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Accuracy and calibration (no gradients): top-1 agreement with the search's choice and
    entropies on full-search rows, mean predicted value vs mean outcome, and the W/L/D Brier score."""
    with torch.no_grad():
        logits = out.policy_logits.float()
        full = targets["full_search"]
        top1 = _masked_mean((logits.argmax(dim=1) == targets["policy"].argmax(dim=1)).float(), full)
        log_p = F.log_softmax(logits, dim=1)
        entropy = _masked_mean(-(log_p.exp() * log_p).sum(dim=1), full)
        t = targets["policy"]
        target_entropy = _masked_mean(-(t * torch.log(t.clamp_min(1e-12))).sum(dim=1), full)
        probs = torch.softmax(out.value_logits.float(), dim=1)  # [B, 3]
        wdl = targets["value_wdl"]
        return {
            "policy_top1": top1,
            "policy_entropy": entropy,
            "policy_target_entropy": target_entropy,
            "value_mean_pred": (probs[:, WIN] - probs[:, LOSS]).mean(),
            "value_mean_target": (wdl[:, WIN] - wdl[:, LOSS]).mean(),
            "value_brier": (probs - wdl).pow(2).sum(dim=1).mean(),
            "ownership_mae": _masked_mean((torch.tanh(out.ownership_logits.float()) - targets["ownership"]).abs().mean(dim=1), targets["settled"]),
            "score_mae": _masked_mean((out.score.float() - targets["score"]).abs(), targets["settled"]),
        }
