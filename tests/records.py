"""Game records for tests and benchmarks: schema-valid ``GameRecord``s with random content."""

from __future__ import annotations

import json

import numpy as np

from alphazero.game_record import GameRecord
from go_engine import coords, features
from go_engine.board import BLACK, WHITE
from go_engine.rules import Rules


def synthetic_record(rng: np.random.Generator, board_size: int, history: int, num_positions: int, game_id: str, komi: float = 7.5) -> GameRecord:
    """A schema-valid record with random content (random binary planes, random policies over a
    random legal subset): for tests and benchmarks of the storage and training path."""
    n, t = board_size, num_positions
    a = coords.num_actions(n)
    c = features.num_planes(history)
    planes = (rng.random((t, c, n, n)) < 0.3).astype(np.float32)  # [T, C, n, n]
    to_play = np.where(np.arange(t) % 2 == 0, BLACK, WHITE).astype(np.int8)  # [T]
    planes[:, -1] = np.where(to_play == BLACK, -komi, komi)[:, None, None] / features.KOMI_SCALE
    bits, scalars = features.pack_planes(planes)
    legal = rng.random((t, a)) < 0.6  # [T, A]
    legal[:, -1] = True
    policy = rng.gamma(0.3, size=(t, a)).astype(np.float32) * legal
    policy /= policy.sum(axis=1, keepdims=True)
    outcome = float(rng.choice([-1.0, 1.0]))
    return GameRecord(
        game_id=game_id,
        board_size=n,
        komi=komi,
        rules=json.dumps(Rules(komi=komi).to_dict()),
        model_version=0,
        history=history,
        feature_version=features.FEATURE_VERSION,
        planes_bits=bits,
        planes_scalars=scalars,
        policy=policy.astype(np.float32),
        full_search=rng.random(t) < 0.75,
        search_value=rng.uniform(-1, 1, t).astype(np.float32),
        to_play=to_play,
        outcome=outcome,
        final_score=outcome * float(rng.integers(1, n * n // 2 + 2)) - 0.5 * outcome,
        final_ownership=rng.integers(-1, 2, n * n).astype(np.int8),
        moves=rng.integers(0, a, t).astype(np.int16),
        resigned=False,
        resign_false_positive=-1,
    ).validate()
