"""``alphazero gtp`` starts on the board its checkpoint was trained on when neither ``--size`` nor
the GUI says otherwise (a 9x9 network must not open a 19x19 game)."""

from __future__ import annotations

import argparse
import io

import pytest

from alphazero.gtp.server import serve
from alphazero.gtp_cli import add_arguments, build_engine
from tests.alphazero.tiny_checkpoint import make_checkpoint


def engine_for(*argv: str):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return build_engine(parser.parse_args(list(argv)))


def replies(engine, text: str) -> list[str]:
    out = io.StringIO()
    serve(engine, io.StringIO(text), out, log=lambda text: None)
    return out.getvalue().split("\n\n")[:-1]


def test_the_board_starts_at_the_checkpoints_size(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ckpt", size=7)
    engine = engine_for("--checkpoint", str(ckpt), "--visits", "4")
    assert engine.game.size == 7
    answer = replies(engine, "genmove b\nquit\n")[0]
    assert answer.startswith("= ") and (answer[2:] == "pass" or (answer[2] in "ABCDEFG" and 1 <= int(answer[3:]) <= 7)), answer


def test_an_explicit_size_and_no_checkpoint_keep_their_sizes(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ckpt", size=7)
    assert engine_for("--checkpoint", str(ckpt), "--visits", "4", "--size", "9").game.size == 9
    assert engine_for("--visits", "4").game.size == 19
    with pytest.raises(ValueError, match="size"):
        engine_for("--checkpoint", str(ckpt), "--visits", "4", "--size", "27")
