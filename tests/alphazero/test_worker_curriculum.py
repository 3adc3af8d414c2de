"""A self-play worker follows the curriculum's stage: each stage's board size and komi, game ids
naming the stage, the old stage's unfinished games dropped at the switch; onnxruntime and torch."""

import numpy as np
import pytest

from alphazero.config.run import PRESETS
from alphazero.model import PolicyValueNet
from go_engine import features
from alphazero.train.actors import self_play_worker

STAGES = "curriculum.stages=[{board_size=4,komi=1.5,until_generation=1},{board_size=5}]"


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_worker_plays_each_stage_on_its_own_size(backend):
    config = PRESETS["tiny-cpu"].with_overrides([STAGES, f"loop.inference_backend={backend}", "selfplay.max_game_moves=10",
                                                   "selfplay.games_in_parallel=4"])
    worker = self_play_worker(config, 0, device="cpu")
    weights = {k: v.numpy() for k, v in PolicyValueNet(config.network, features.num_planes(config.history)).state_dict().items()}
    first, _ = worker.run(0, weights, 300, stage=0)
    assert first and all(r.board_size == 4 and r.komi == 1.5 and "-s0-" in r.game_id for r in first)
    assert all(r.policy.shape[1] == 17 for r in first)
    worker.run(0, weights, 3, stage=0)  # games of stage 0 now in progress...
    second, stats = worker.run(0, weights, 300, stage=1)  # ...are dropped: only 5x5 games come back
    assert second and all(r.board_size == 5 and r.komi == 0.5 and "-s1-" in r.game_id for r in second)
    assert all(r.policy.shape[1] == 26 for r in second)
    assert stats.steps == 300
    ids = [r.game_id for r in first + second]
    assert len(ids) == len(set(ids))
    assert np.all([r.model_version == 0 for r in second])
