"""Two board sizes (a board-size curriculum): the replay buffer's one window over both sizes, its
batches of one size each, their reload, and the learner training on both with one network."""

import logging

import numpy as np
import torch

from alphazero.config.network import network_preset
from alphazero.config.trainer import ReplayConfig, TrainerConfig
from alphazero.model import PolicyValueNet
from go_engine import features
from tests.records import synthetic_record
from trainer.learner import Learner
from trainer.replay_buffer import ReplayBuffer

HISTORY = 2


def config(**kw) -> ReplayConfig:
    values = dict(max_size=10_000, window_base=10_000, window_alpha=0.0, window_beta=0.5, min_positions=1)
    values.update(kw)
    return ReplayConfig(**values)


def game(i: int, n: int, positions: int = 10):
    return synthetic_record(np.random.default_rng(i), n, HISTORY, positions, f"g{n}-{i}")


def test_one_window_over_two_sizes_and_batches_of_one_size(tmp_path):
    buf = ReplayBuffer(tmp_path, config(), (5, 7), HISTORY)
    for i in range(6):
        assert buf.add(game(i, 5))
    for i in range(2):
        assert buf.add(game(i, 7))
    assert buf.window_by_size() == {5: 60, 7: 20} and len(buf) == 80
    assert buf.stats()["window_by_size"] == {"5": 60, "7": 20}
    rng = np.random.default_rng(0)
    # Asked for a size the window holds min_positions of: every batch is of that size.
    for n in (5, 7):
        batch = buf.sample(16, rng, board_size=n)
        assert batch.planes.shape == (16, features.num_planes(HISTORY), n, n)
        assert batch.policy.shape == (16, n * n + 1) and batch.ownership.shape == (16, n * n)
    # Unasked (or not enough of the asked size): one size per batch, drawn by window share (3:1).
    sizes = [buf.sample(4, rng).planes.shape[-1] for _ in range(400)]
    assert set(sizes) == {5, 7}
    assert 0.68 < sizes.count(5) / len(sizes) < 0.82
    strict = ReplayBuffer(tmp_path / "strict", config(min_positions=30), (5, 7), HISTORY)
    for i in range(6):
        strict.add(game(i, 5))
    strict.add(game(0, 7))  # 10 positions of 7x7, fewer than min_positions: drawn by share (6:1)
    sizes = [strict.sample(4, rng, board_size=7).planes.shape[-1] for _ in range(400)]
    assert 0.78 < sizes.count(5) / len(sizes) < 0.93
    strict.add(game(1, 7))
    strict.add(game(2, 7))  # 30 positions of 7x7 now: every batch is 7x7
    assert {strict.sample(4, rng, board_size=7).planes.shape[-1] for _ in range(50)} == {7}


def test_the_window_moves_past_the_old_size(tmp_path):
    buf = ReplayBuffer(tmp_path, config(max_size=100, window_base=50), (5, 7), HISTORY)
    for i in range(5):
        buf.add(game(i, 5))  # 50 positions of 5x5: the whole window
    assert buf.window_by_size() == {5: 50, 7: 0}
    for i in range(3):
        buf.add(game(i, 7))
    assert buf.window_by_size() == {5: 20, 7: 30}  # the newest 50 positions, across the sizes
    for i in range(3, 6):
        buf.add(game(i, 7))
    assert buf.window_by_size() == {5: 0, 7: 50}
    rng = np.random.default_rng(1)
    assert {buf.sample(8, rng).planes.shape[-1] for _ in range(20)} == {7}
    # Reopened from its shards, the buffer holds the same window of each size.
    again = ReplayBuffer(tmp_path, config(max_size=100, window_base=50), (5, 7), HISTORY)
    assert again.window_by_size() == {5: 0, 7: 50} and again.total_seen == buf.total_seen


def test_reload_keeps_both_sizes_in_order(tmp_path):
    buf = ReplayBuffer(tmp_path, config(window_base=35), (5, 7), HISTORY)
    for i, n in enumerate([5, 7, 5, 7, 5]):
        buf.add(game(i, n))
    again = ReplayBuffer(tmp_path, config(window_base=35), (5, 7), HISTORY)
    assert again.window_by_size() == buf.window_by_size() == {5: 20, 7: 15}
    assert not again.add(game(1, 7))  # still a duplicate


def test_a_size_outside_the_curriculum_is_refused(tmp_path, caplog):
    buf = ReplayBuffer(tmp_path, config(), (5, 7), HISTORY)
    with caplog.at_level(logging.WARNING):
        assert not buf.add(game(0, 9))
    assert "board size 9 / history 2, this buffer holds 5/7 / 2" in caplog.text
    assert buf.total_seen == 0 and buf.rejected == 1


def test_learner_trains_one_network_on_batches_of_two_sizes(tmp_path):
    torch.manual_seed(0)
    buf = ReplayBuffer(tmp_path, config(), (5, 7), HISTORY)
    for i in range(4):
        buf.add(game(i, 5, 20))
        buf.add(game(i, 7, 20))
    model = PolicyValueNet(network_preset("tiny"), features.num_planes(HISTORY))
    learner = Learner(model, TrainerConfig(batch_size=16, lr=0.01, warmup_steps=1), "cpu")
    rng = np.random.default_rng(2)
    fixed = {n: buf.sample(16, rng, board_size=n) for n in (5, 7)}
    first = {n: learner.train_step(fixed[n])["loss/total"] for n in (5, 7)}
    for _ in range(40):
        for n in (5, 7):
            losses = learner.train_step(fixed[n])
            assert np.isfinite(losses["loss/total"])
    last = {n: learner.train_step(fixed[n])["loss/total"] for n in (5, 7)}
    assert all(last[n] < first[n] for n in (5, 7)), (first, last)  # it fits both sizes at once
    net = PolicyValueNet(network_preset("tiny"), features.num_planes(HISTORY))
    net.load_state_dict(learner.publish_state_dict())
    net.eval()
    with torch.no_grad():
        for n in (5, 7):
            out = net(torch.from_numpy(fixed[n].planes[:2]))
            assert out.policy_logits.shape == (2, n * n + 1)
