"""Replay buffer: persistence across restarts and SIGKILL, dedup, refusals, window, eviction, sampling."""

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from alphazero.config.trainer import ReplayConfig
from go_engine import symmetry
from tests.records import synthetic_record
from trainer.replay_buffer import ReplayBuffer, shard_name

N, HISTORY = 5, 2


def config(**kw) -> ReplayConfig:
    values = dict(max_size=10_000, window_base=10_000, window_alpha=0.0, window_beta=0.5, min_positions=1)
    values.update(kw)
    return ReplayConfig(**values)


def game(i: int, positions: int | None = None):
    return synthetic_record(np.random.default_rng(i), N, HISTORY, positions or 10 + i % 7, f"game-{i}")


def test_add_count_and_reopen(tmp_path):
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    sizes = [game(i).num_positions for i in range(6)]
    for i in range(6):
        assert buf.add(game(i))
    assert len(buf) == buf.total_seen == sum(sizes)
    again = ReplayBuffer(tmp_path, config(), N, HISTORY)
    assert again.total_seen == sum(sizes) and len(again) == sum(sizes)
    assert again.stats()["games_added"] == 6
    assert not again.add(game(3))  # still a duplicate after the restart
    assert again.add(game(6))


def test_duplicates_ignored(tmp_path, caplog):
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    assert buf.add(game(1))
    with caplog.at_level(logging.WARNING):
        assert not buf.add(game(1))
        assert not buf.add(dataclasses.replace(game(2), game_id="game-1"))
    assert "duplicate game id" in caplog.text
    assert buf.total_seen == game(1).num_positions and buf.duplicates == 2
    assert len(list(tmp_path.iterdir())) == 1


def test_malformed_records_refused_with_reason(tmp_path, caplog):
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    good = game(0)
    policy = good.policy.copy()
    policy[0, 0] = np.nan
    bad = [
        dataclasses.replace(good, policy=policy),
        dataclasses.replace(good, to_play=good.to_play.astype(np.int32)),
        synthetic_record(np.random.default_rng(1), 7, HISTORY, 5, "other-size"),
        "not a record",
    ]
    with caplog.at_level(logging.WARNING):
        assert not any(buf.add(r) for r in bad)
    assert "NaN" in caplog.text and "to_play must be int8" in caplog.text and "board size 7" in caplog.text
    assert buf.rejected == 4 and buf.total_seen == 0 and not list(tmp_path.iterdir())
    # A foreign file: size caps apply before parsing.
    foreign = tmp_path.parent / "foreign.npz"
    good.save_npz(foreign)
    small = ReplayBuffer(tmp_path, config(max_file_bytes=1024, max_uncompressed_bytes=1024), N, HISTORY)
    with caplog.at_level(logging.WARNING):
        assert not small.add_file(foreign)
    assert "exceeds the limit" in caplog.text
    assert buf.add_file(foreign) and buf.total_seen == good.num_positions


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from alphazero.config.trainer import ReplayConfig
    from tests.records import synthetic_record
    from trainer.replay_buffer import ReplayBuffer

    buf = ReplayBuffer(sys.argv[1], ReplayConfig(max_size=100_000, min_positions=1), 5, 2)
    i = 0
    while True:
        buf.add(synthetic_record(np.random.default_rng(i), 5, 2, 10 + i % 7, f"game-{i}"))
        print(i, buf.total_seen, flush=True)
        i += 1
    """
)


def test_survives_sigkill_between_shard_writes(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])  # the checkout: tests.records imports
    acked = []
    try:
        for line in proc.stdout:
            acked.append(tuple(map(int, line.split())))
            if len(acked) >= 25:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and len(acked) == 25
    last_game, last_total = acked[-1]
    # A killed writer may leave a half-written temp file; plant one for certain.
    (tmp_path / f".{10**9:010d}_{10**12:013d}.npz.tmp-1-deadbeef").write_bytes(b"PK\x03\x04 half a zip")
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    sizes = np.array([10 + i % 7 for i in range(last_game + 40)])
    games = buf.stats()["games_added"]
    assert games >= last_game + 1  # everything acknowledged survived
    assert buf.total_seen == sizes[:games].sum() >= last_total
    assert len(buf) == buf.total_seen
    assert buf.rejected == 0
    assert buf.add(game(10_000))  # and the buffer keeps working


def test_window_grows_and_old_shards_are_deleted(tmp_path):
    cfg = config(max_size=50, window_base=20, window_alpha=1.0, window_beta=0.5)
    buf = ReplayBuffer(tmp_path, cfg, N, HISTORY)
    for i in range(12):
        buf.add(game(i, positions=10))
        assert len(buf) == cfg.window_size(buf.total_seen)
    assert buf.total_seen == 120 and len(buf) == 20 + int(120**0.5)
    shards = sorted(p.name for p in tmp_path.iterdir())
    # Shards entirely older than max_size positions are gone: 120 - 50 = 70 -> shards ending <= 70.
    assert len(shards) == 5 and shards[0].endswith("_0000000000080.npz")
    reopened = ReplayBuffer(tmp_path, cfg, N, HISTORY)
    assert reopened.total_seen == 120 and len(reopened) == len(buf)


def test_sampling_transforms_planes_and_targets_consistently(tmp_path):
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    record = game(3, positions=16)
    buf.add(record)
    planes = record.planes()  # [T, C, n, n]
    targets = record.training_targets()
    batch = buf.sample(64, np.random.default_rng(0))
    assert batch.planes.shape == (64, planes.shape[1], N, N) and batch.planes.dtype == np.float32
    assert len(set(batch.symmetries.tolist())) > 4
    for i in range(64):
        inv = symmetry.inverse(int(batch.symmetries[i]))
        original = symmetry.transform_planes(batch.planes[i], inv)
        matches = np.flatnonzero((planes == original).all(axis=(1, 2, 3)))
        assert len(matches) == 1
        t = matches[0]
        np.testing.assert_array_equal(symmetry.transform_policy(batch.policy[i], inv, N), record.policy[t])
        np.testing.assert_array_equal(symmetry.transform_policy(batch.ownership[i], inv, N), targets["ownership"][t])
        np.testing.assert_array_equal(batch.value_wdl[i], targets["value_wdl"][t])
        assert batch.score[i] == targets["score"][t] and batch.full_search[i] == record.full_search[t]



def test_positions_of_resigned_games_sample_as_unsettled(tmp_path):
    """The learner trains score and ownership only on games that ended on the board: the buffer
    marks every position of a resigned game, and only those, as not settled (across a reopen)."""
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    finished = game(1, positions=12)
    resigned = dataclasses.replace(game(2, positions=12), resigned=True)
    assert buf.add(finished) and buf.add(resigned)
    for source in (buf, ReplayBuffer(tmp_path, config(), N, HISTORY)):
        batch = source.sample(400, np.random.default_rng(1))
        assert batch.settled.any() and (~batch.settled).any()
        # Identify each row's game by its planes: the two synthetic games share none.
        resigned_planes = resigned.planes()
        for i in range(400):
            original = symmetry.transform_planes(batch.planes[i], symmetry.inverse(int(batch.symmetries[i])))
            in_resigned = (resigned_planes == original).all(axis=(1, 2, 3)).any()
            assert batch.settled[i] == (not in_resigned), f"row {i}"


def test_sampling_draws_only_from_the_window(tmp_path):
    cfg = config(max_size=40, window_base=25, window_alpha=0.0)
    buf = ReplayBuffer(tmp_path, cfg, N, HISTORY)
    for i in range(6):
        buf.add(game(i, positions=10))
    assert len(buf) == 25
    recent = np.concatenate([game(i, positions=10).planes() for i in range(6)])[-25:]
    batch = buf.sample(200, np.random.default_rng(1))
    seen = set()
    for i in range(200):
        original = symmetry.transform_planes(batch.planes[i], symmetry.inverse(int(batch.symmetries[i])))
        hits = np.flatnonzero((recent == original).all(axis=(1, 2, 3)))
        assert len(hits) >= 1
        seen.add(int(hits[0]))
    assert len(seen) > 20


def test_sampling_needs_min_positions(tmp_path):
    buf = ReplayBuffer(tmp_path, config(min_positions=100), N, HISTORY)
    buf.add(game(0))
    assert not buf.ready
    with pytest.raises(ValueError, match="sampling needs 100"):
        buf.sample(8, np.random.default_rng(0))


def test_temp_files_never_count(tmp_path):
    buf = ReplayBuffer(tmp_path, config(), N, HISTORY)
    buf.add(game(0))
    os.rename(next(tmp_path.iterdir()), tmp_path / ".0000000000_0000000000013.npz.tmp-9-00")
    assert ReplayBuffer(tmp_path, config(), N, HISTORY).total_seen == 0


def _version_1_record_file(path: Path, i: int) -> None:
    """A record as schema 1 wrote it: feature version 1 planes (2k+10), no feature_version array."""
    from go_engine import features

    record = game(i)
    arrays = record.to_arrays()
    del arrays["feature_version"]
    arrays["schema_version"] = np.asarray(1, np.int64)
    planes = record.planes()  # [T, 2k+13, n, n]: drop the three rules planes to get version 1's layout
    old = np.concatenate([planes[:, : 2 * HISTORY + 9], planes[:, -1:]], axis=1)
    arrays["planes_bits"], arrays["planes_scalars"] = features.pack_planes(old)
    np.savez_compressed(path, **arrays)


def test_records_of_the_old_feature_version_are_refused_by_name(tmp_path, caplog):
    from alphazero.game_record import GameRecord, GameRecordError

    old = tmp_path / "old.npz"
    _version_1_record_file(old, 3)
    with pytest.raises(GameRecordError, match="schema 1 \\(feature version 1 planes.*does not mix"):
        GameRecord.load_npz(old)
    buf = ReplayBuffer(tmp_path / "buf", config(), N, HISTORY)
    with caplog.at_level(logging.WARNING):
        assert not buf.add_file(old)
    assert "feature version 1" in caplog.text and len(buf) == 0 and buf.rejected == 1
    # A replay directory left by a version-1 run: its shards are skipped with the reason, never mixed in.
    buf.add(game(4))
    _version_1_record_file(tmp_path / "buf" / shard_name(1, 99), 5)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = ReplayBuffer(tmp_path / "buf", config(), N, HISTORY)
    assert len(again) == game(4).num_positions and "feature version 1" in caplog.text
    # A record claiming another feature version is refused too.
    with pytest.raises(GameRecordError, match="feature_version 1"):
        dataclasses.replace(game(6), feature_version=1).validate()
