"""GameRecord schema: npz round trip, malformed records refused with a reason, side-to-move targets."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from alphazero.game_record import GameRecord, GameRecordError, side_to_move_targets
from go_engine.board import BLACK, WHITE
from tests.records import synthetic_record


def record(**changes) -> GameRecord:
    base = synthetic_record(np.random.default_rng(7), 5, 2, 12, "game-7")
    return dataclasses.replace(base, **changes) if changes else base


def test_npz_round_trip(tmp_path):
    r = record()
    r.save_npz(tmp_path / "g.npz")
    back = GameRecord.load_npz(tmp_path / "g.npz")
    for f in dataclasses.fields(GameRecord):
        a, b = getattr(r, f.name), getattr(back, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), f.name
        else:
            assert a == b and type(a) is type(b), f.name
    np.testing.assert_array_equal(back.planes(), r.planes())
    assert [p.name for p in tmp_path.iterdir()] == ["g.npz"]  # no temp file left behind


def test_targets_follow_side_to_move():
    to_play = np.array([BLACK, WHITE, BLACK], np.int8)
    ownership = np.array([1, -1, 0, 1], np.int8)
    t = side_to_move_targets(to_play, 1.0, 6.5, ownership)
    np.testing.assert_array_equal(t["value_wdl"], [[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(t["score"], [6.5, -6.5, 6.5])
    np.testing.assert_array_equal(t["ownership"], [[1, -1, 0, 1], [-1, 1, 0, -1], [1, -1, 0, 1]])
    draw = side_to_move_targets(to_play, 0.0, 0.0, ownership)
    np.testing.assert_array_equal(draw["value_wdl"][:, 2], [1, 1, 1])
    per_row = side_to_move_targets(to_play, np.array([-1, -1, 1]), np.array([-2, -2, 3]), np.stack([ownership] * 3))
    np.testing.assert_array_equal(per_row["value_wdl"][:, 0], [0, 1, 1])
    assert record().training_targets()["ownership"].shape == (12, 25)


def bad_records():
    r = record()
    nan_policy = r.policy.copy()
    nan_policy[3, 0] = np.nan
    unnormalised = r.policy * 2
    return {
        "NaN": dict(policy=nan_policy),
        "sums to": dict(policy=unnormalised),
        "policy must be float32": dict(policy=r.policy.astype(np.float64)),
        "full_search must be bool": dict(full_search=r.full_search[:-1]),
        "planes_bits must be uint8": dict(planes_bits=r.planes_bits[:, :-1]),
        "to_play must be": dict(to_play=np.full(12, 3, np.int8)),
        "search_value must be finite": dict(search_value=np.full(12, 1.5, np.float32)),
        "game_id must be": dict(game_id="x" * 65),
        "outcome must be": dict(outcome=0.5),
        "disagrees with final_score": dict(final_score=-r.final_score),
        "komi": dict(komi=6.5),
        "rules is not a valid": dict(rules='{"ko": "sometimes"}'),
        "moves must be actions": dict(moves=np.full(12, 26, np.int16)),
        "final_ownership must be -1": dict(final_ownership=np.full(25, 2, np.int8)),
        "board size must be": dict(board_size=25),
        "history must be": dict(history=0),
    }


@pytest.mark.parametrize("reason", list(bad_records()))
def test_malformed_records_refused(reason, tmp_path):
    bad = record(**bad_records()[reason])
    with pytest.raises(GameRecordError, match=reason):
        bad.validate()
    with pytest.raises(GameRecordError, match=reason):
        bad.save_npz(tmp_path / "bad.npz")
    assert not list(tmp_path.iterdir())


def write_arrays(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_bad_files_refused(tmp_path):
    good = record().to_arrays()
    path = tmp_path / "g.npz"
    record().save_npz(path)
    data = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) - 100])
    with pytest.raises(GameRecordError, match="trunc.npz: not a readable"):
        GameRecord.load_npz(tmp_path / "trunc.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(GameRecordError, match="not a readable"):
        GameRecord.load_npz(tmp_path / "junk.npz")
    with pytest.raises(GameRecordError, match="exceeds the limit"):
        GameRecord.load_npz(path, max_file_bytes=100)
    # A small file that inflates hugely is refused from the zip directory, before decompression.
    bomb = dict(good, policy=np.zeros((5000, 5000), np.float32))
    with open(tmp_path / "bomb.npz", "wb") as f:
        np.savez_compressed(f, **bomb)
    assert (tmp_path / "bomb.npz").stat().st_size < 1 << 20
    with pytest.raises(GameRecordError, match="uncompressed exceeds"):
        GameRecord.load_npz(tmp_path / "bomb.npz", max_uncompressed_bytes=10 << 20)
    missing = {k: v for k, v in good.items() if k != "policy"}
    write_arrays(tmp_path / "missing.npz", missing)
    with pytest.raises(GameRecordError, match=r"missing arrays \['policy'\]"):
        GameRecord.load_npz(tmp_path / "missing.npz")
    write_arrays(tmp_path / "extra.npz", dict(good, secret=np.zeros(1)))
    with pytest.raises(GameRecordError, match="unknown arrays"):
        GameRecord.load_npz(tmp_path / "extra.npz")
    write_arrays(tmp_path / "shared.npz", dict(good, to_play=good["to_play"][:-1]))
    with pytest.raises(GameRecordError, match=r"to_play must be int8 \(12,\)"):
        GameRecord.load_npz(tmp_path / "shared.npz")
    write_arrays(tmp_path / "scalar.npz", dict(good, board_size=np.array([5, 5])))
    with pytest.raises(GameRecordError, match="board_size must be a scalar"):
        GameRecord.load_npz(tmp_path / "scalar.npz")


def test_pickled_arrays_never_loaded(tmp_path):
    arrays = dict(record().to_arrays(), game_id=np.array({"evil": 1}, dtype=object))
    with open(tmp_path / "pickle.npz", "wb") as f:
        np.savez(f, **arrays)  # writes a pickled object array
    with zipfile.ZipFile(tmp_path / "pickle.npz") as zf:
        assert "game_id.npy" in zf.namelist()
    with pytest.raises(GameRecordError, match="not a readable"):
        GameRecord.load_npz(tmp_path / "pickle.npz")


def test_zero_policy_allowed_only_without_full_search():
    r = record()
    policy = r.policy.copy()
    fast = int(np.flatnonzero(~r.full_search)[0])
    full = int(np.flatnonzero(r.full_search)[0])
    policy[fast] = 0
    record(policy=policy).validate()
    policy[full] = 0
    with pytest.raises(GameRecordError, match=f"policy row {full} sums to 0"):
        record(policy=policy).validate()


def test_rules_json_is_parsed():
    r = record(rules=json.dumps({"ko": "simple", "suicide": "allowed", "komi": 7.5, "max_moves": None}))
    r.validate()
