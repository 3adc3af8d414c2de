"""Atomic writes (``alphazero.atomic_io``): a reader sees the old file or the new one, never half, and
no temp file is left behind, whether the write succeeds or fails."""

from __future__ import annotations

import pytest

from alphazero.atomic_io import atomic_writer, write_bytes_atomic
from go_engine import sgf
from go_engine.sgf import BLACK, WHITE, GameResult, SgfGame


def test_overwrite_an_sgf_record(tmp_path):
    path = tmp_path / "g.sgf"
    first = SgfGame(size=9, moves=((BLACK, 40),))
    second = SgfGame(size=9, moves=((BLACK, 40), (WHITE, 81)), result=GameResult(BLACK, None, "resign"))
    write_bytes_atomic(path, sgf.to_sgf_bytes(first))
    write_bytes_atomic(path, sgf.to_sgf_bytes(second))
    assert sgf.read_sgf(path) == second
    assert [p.name for p in tmp_path.iterdir()] == ["g.sgf"]  # no temp files left


def test_write_into_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(OSError):
        write_bytes_atomic(tmp_path / "missing" / "g.sgf", b"(;)")
    assert list(tmp_path.iterdir()) == []


def test_error_while_writing_keeps_the_old_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="stop"):
        with atomic_writer(path) as f:
            f.write(b"half of the new")
            raise RuntimeError("stop")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
