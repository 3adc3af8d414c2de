"""Evaluators without a network, for tests and benchmarks: uniform, a deterministic linear one,
the area score read from the planes (exact on finished or settled tiny-board positions), and a
chosen value and score lead (black's, whatever the position).

All follow the search's contract ``(planes [B, C, n, n] float32, legal [B, A] bool) -> (logits
[B, A] float32, value [B] float32, aux dict)``, values from the side to move's view.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from go_engine import features as F
from go_engine.features import KOMI_SCALE

ILLEGAL_LOGIT = -1e9  # as alphazero.evaluator: finite, so no NaN arises from masked softmaxes


def _check(planes: np.ndarray, legal: np.ndarray) -> tuple[int, int]:
    if planes.ndim != 4 or planes.shape[2] != planes.shape[3]:
        raise ValueError(f"planes must be [B, C, n, n], got {planes.shape}")
    b, _, n, _ = planes.shape
    if legal.shape != (b, n * n + 1) or legal.dtype != np.bool_:
        raise ValueError(f"legal must be bool [{b}, {n * n + 1}], got {legal.dtype} {legal.shape}")
    return b, n


class UniformEvaluator:
    """Equal logits over legal moves; value 0, or uniform in [-noise, noise] from ``rng``."""

    def __init__(self, value_noise: float = 0.0, rng: np.random.Generator | None = None) -> None:
        if value_noise < 0 or value_noise > 1:
            raise ValueError(f"value_noise must be in [0, 1], got {value_noise}")
        if value_noise > 0 and rng is None:
            raise ValueError("value_noise needs an rng")
        self.value_noise = value_noise
        self.rng = rng

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        b, _ = _check(planes, legal)
        logits = np.where(legal, np.float32(0.0), np.float32(ILLEGAL_LOGIT))
        if self.value_noise > 0:
            value = self.rng.uniform(-self.value_noise, self.value_noise, size=b).astype(np.float32)
        else:
            value = np.zeros(b, np.float32)
        return logits, value, {}


class LinearEvaluator:
    """A fixed random linear map of the planes (seeded): deterministic, position-dependent logits and
    values in (-1, 1). A stand-in network for golden trees and batch-independence tests. Weights are
    small integers on the binary planes (the komi plane is ignored), so the sums are exact and a
    row's output never depends on which other rows share its batch."""

    def __init__(self, num_planes: int, n: int, seed: int = 0, logit_scale: float = 0.1, value_scale: float = 0.05) -> None:
        rng = np.random.default_rng(seed)
        d = num_planes * n * n
        policy = rng.integers(-4, 5, size=(d, n * n + 1)).astype(np.float64)  # [C*n*n, A]
        value = rng.integers(-4, 5, size=d).astype(np.float64)  # [C*n*n]
        policy[-n * n :] = 0.0
        value[-n * n :] = 0.0
        self.policy, self.value = policy, value
        self.logit_scale, self.value_scale = logit_scale, value_scale

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        b, _ = _check(planes, legal)
        x = planes.reshape(b, -1).astype(np.float64)
        logits = np.where(legal, self.logit_scale * (x @ self.policy), ILLEGAL_LOGIT).astype(np.float32)
        value = np.tanh(self.value_scale * (x @ self.value)).astype(np.float32)
        return logits, value, {}


class FixedScoreEvaluator:
    """Uniform logits over legal moves; ``value`` and ``score`` (points) are black's, whatever the
    position: the side to move gets them with the sign of its view (the black-to-move plane tells).
    A stand-in network with a score head, for the score utility and what must ignore it."""

    def __init__(self, value: float, score: float) -> None:
        if not -1.0 <= value <= 1.0:
            raise ValueError(f"value must be in [-1, 1], got {value}")
        self.value, self.score = float(value), float(score)

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        b, _ = _check(planes, legal)
        k = F.feature_layout(planes.shape[1])[1]
        sign = np.where(planes[:, 2 * k, 0, 0] > 0.5, 1.0, -1.0)  # [B] +1 where black is to move
        logits = np.where(legal, np.float32(0.0), np.float32(ILLEGAL_LOGIT))
        return logits, (sign * self.value).astype(np.float32), {"score": (sign * self.score).astype(np.float32)}


@njit(cache=True)
def _area_margin(own: np.ndarray, opp: np.ndarray, region: np.ndarray, stack: np.ndarray) -> int:
    """Tromp-Taylor area of ``own`` minus ``opp`` on an n x n grid (both [n, n] float32 0/1)."""
    n = own.shape[0]
    region[:] = -1
    margin = 0
    for r0 in range(n):
        for c0 in range(n):
            if own[r0, c0] > 0.5:
                margin += 1
            elif opp[r0, c0] > 0.5:
                margin -= 1
            elif region[r0 * n + c0] < 0:
                touches = 0
                size = 0
                top = 0
                stack[top] = r0 * n + c0
                top += 1
                region[r0 * n + c0] = 1
                while top > 0:
                    top -= 1
                    q = stack[top]
                    size += 1
                    r, c = q // n, q % n
                    for d in range(4):
                        rr = r - 1 if d == 0 else (r + 1 if d == 1 else r)
                        cc = c - 1 if d == 2 else (c + 1 if d == 3 else c)
                        if rr < 0 or rr >= n or cc < 0 or cc >= n:
                            continue
                        if own[rr, cc] > 0.5:
                            touches |= 1
                        elif opp[rr, cc] > 0.5:
                            touches |= 2
                        elif region[rr * n + cc] < 0:
                            region[rr * n + cc] = 1
                            stack[top] = rr * n + cc
                            top += 1
                if touches == 1:
                    margin += size
                elif touches == 2:
                    margin -= size
    return margin


@njit(cache=True, parallel=True)
def _area_values(planes: np.ndarray, scale: float, out: np.ndarray, margins: np.ndarray) -> None:
    nb, C, n, _ = planes.shape
    k = (C - 13) // 2 if C % 2 == 1 else (C - 10) // 2  # features.feature_layout: version 2 odd, 1 even
    for b in prange(nb):
        region = np.empty(n * n, np.int32)
        stack = np.empty(n * n, np.int32)
        margin = _area_margin(planes[b, 0], planes[b, k], region, stack) + KOMI_SCALE * planes[b, C - 1, 0, 0]
        margins[b] = margin
        out[b] = np.tanh(margin / scale) if scale > 0 else (1.0 if margin > 0 else (-1.0 if margin < 0 else 0.0))


class AreaScoreEvaluator:
    """Value = tanh(area margin of the side to move, komi included, / scale) read from the planes
    (``scale=0``: the sign, i.e. the result if the game ended now); uniform logits over legal moves.
    On settled tiny positions this is the exact result, which makes known-answer tests possible.
    With ``with_aux`` it also predicts the network's aux heads: ``score`` = that margin and
    ``ownership`` = +1 on the side to move's stones, -1 on the opponent's, 0 on empty points
    (a deterministic stand-in for analysis tests)."""

    def __init__(self, scale: float = 0.0, with_aux: bool = False) -> None:
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        self.scale = float(scale)
        self.with_aux = with_aux

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        b, _ = _check(planes, legal)
        if planes.shape[1] < 12:
            raise ValueError(f"planes have {planes.shape[1]} channels; the feature layout needs at least 12")
        value = np.zeros(b, np.float32)
        margins = np.zeros(b, np.float32)
        _area_values(np.ascontiguousarray(planes, dtype=np.float32), self.scale, value, margins)
        logits = np.where(legal, np.float32(0.0), np.float32(ILLEGAL_LOGIT))
        if not self.with_aux:
            return logits, value, {}
        k = F.feature_layout(planes.shape[1])[1]
        ownership = (planes[:, 0] - planes[:, k]).reshape(b, -1).astype(np.float32)  # [B, n*n]
        return logits, value, {"score": margins, "ownership": ownership}
