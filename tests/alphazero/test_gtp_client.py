"""GTP client: real GNU Go, and tiny fake engines that hang, die, ignore SIGTERM or print garbage."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import textwrap
import time

import pytest

from alphazero import gtp_client
from alphazero.gtp_client import (
    GtpEngine,
    GtpEngineDied,
    GtpEngineFailure,
    GtpError,
    GtpProtocolError,
    GtpTimeout,
    find_gnugo,
    gnugo_command,
)
from go_engine.rules import KoRule, Rules, SuicideRule

GNUGO = find_gnugo()
needs_gnugo = pytest.mark.skipif(GNUGO is None, reason="GNU Go (gnugo) is not installed: apt-get install gnugo")

# A minimal well-behaved GTP engine; FAKE_BEHAVIOUR below swaps in one misbehaviour per test.
FAKE_ENGINE = textwrap.dedent(
    """
    import signal, sys, time
    BEHAVIOUR = {behaviour!r}
    if BEHAVIOUR == "ignore_sigterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cid, name = (words[0], words[1]) if words[0].isdigit() else ("", words[0])
        def reply(text, sign="="):
            sys.stdout.write(f"{{sign}}{{cid}} {{text}}\\n\\n")
            sys.stdout.flush()
        if name == "quit":
            if BEHAVIOUR in ("hang", "ignore_sigterm"):
                continue  # never answers, never exits by itself
            reply("")
            break
        if name == "name":
            reply("fake")
        elif BEHAVIOUR == "hang" and name == "genmove":
            time.sleep(3600)
        elif BEHAVIOUR == "ignore_sigterm" and name == "genmove":
            time.sleep(3600)
        elif BEHAVIOUR == "die" and name == "genmove":
            sys.exit(3)
        elif BEHAVIOUR == "garbage" and name == "genmove":
            sys.stdout.write("thinking hard... D4\\n\\n")
            sys.stdout.flush()
        elif BEHAVIOUR == "bad_move" and name == "genmove":
            reply("somewhere nice")
        elif BEHAVIOUR == "wrong_id" and name == "genmove":
            sys.stdout.write("=9999 D4\\n\\n")
            sys.stdout.flush()
        elif BEHAVIOUR == "no_id" and name == "genmove":
            sys.stdout.write("= d4\\n\\n")
            sys.stdout.flush()
        elif BEHAVIOUR == "huge_line" and name == "genmove":
            sys.stdout.write("=" + cid + " " + "x" * (2 << 20))
            sys.stdout.flush()
            time.sleep(3600)
        elif BEHAVIOUR == "stderr_flood" and name == "genmove":
            for _ in range(2000):
                sys.stderr.write("log " * 256 + "\\n")  # ~2 MB: would block on an unread pipe
            sys.stderr.flush()
            reply("C3")
        elif name == "showboard":
            sys.stdout.write(f"={{cid}} \\nrow one\\nrow two\\n\\n")
            sys.stdout.flush()
        elif name == "play" and words[-1].upper() == "A1":
            reply("illegal move", sign="?")
        elif name == "genmove":
            reply("pass")
        else:
            reply("")
    """
)


def fake_engine(tmp_path, behaviour: str, timeout: float = 1.0, **kwargs) -> GtpEngine:
    script = tmp_path / f"fake_{behaviour}.py"
    script.write_text(FAKE_ENGINE.format(behaviour=behaviour))
    return GtpEngine([sys.executable, "-u", str(script)], timeout=timeout, name=f"fake-{behaviour}", **kwargs)


# ---- fake engines -------------------------------------------------------------------------------


def test_fake_engine_round_trip_and_multiline(tmp_path):
    with fake_engine(tmp_path, "ok") as engine:
        assert engine.name() == "fake"
        assert engine.genmove("b") == "pass"
        assert engine.showboard() == "row one\nrow two"
        with pytest.raises(GtpError) as info:
            engine.play("white", "A1")
        assert info.value.message == "illegal move"
        engine.play("w", "B2")  # still usable after a refused command
        proc = engine._process.proc
    assert proc.returncode == 0  # quit answered, process exited on its own


def test_hanging_engine_times_out_quickly_and_stays_failed(tmp_path):
    engine = fake_engine(tmp_path, "hang", timeout=0.5)
    try:
        engine.boardsize(9)
        start = time.monotonic()
        with pytest.raises(GtpTimeout, match="no response to 'genmove black' within 0.5 s"):
            engine.genmove("black")
        assert time.monotonic() - start < 3.0
        assert isinstance(engine.failure, GtpTimeout)
        start = time.monotonic()
        with pytest.raises(GtpTimeout, match="earlier failure"):
            engine.clear_board()  # refused at once: the stream can no longer be trusted
        assert time.monotonic() - start < 0.5
    finally:
        start = time.monotonic()
        engine.close(grace=0.5)
        assert time.monotonic() - start < 3.0
    assert not engine.alive


def test_engine_ignoring_sigterm_is_killed(tmp_path):
    engine = fake_engine(tmp_path, "ignore_sigterm", timeout=0.5)
    engine.name()
    with pytest.raises(GtpTimeout):
        engine.genmove("w")
    start = time.monotonic()
    code = engine.close(grace=0.3)
    assert time.monotonic() - start < 3.0
    assert code == -9  # neither quit nor SIGTERM worked; SIGKILL did
    assert engine.close() == -9  # idempotent


def test_engine_dying_mid_command(tmp_path):
    with fake_engine(tmp_path, "die") as engine:
        engine.boardsize(9)
        with pytest.raises(GtpEngineDied, match=r"died during 'genmove black' \(exit status 3\)"):
            engine.genmove("black")
        with pytest.raises(GtpEngineDied):
            engine.play("b", "D4")
        assert not engine.alive


@pytest.mark.parametrize(
    "behaviour, match",
    [
        ("garbage", "garbage 'thinking hard... D4'"),
        ("bad_move", "not a vertex, pass or resign"),
        ("wrong_id", "response id 9999"),
        ("huge_line", "longer than"),
    ],
)
def test_engine_breaking_the_protocol(tmp_path, behaviour, match):
    with fake_engine(tmp_path, behaviour, timeout=5.0) as engine:
        assert engine.name() == "fake"
        with pytest.raises(GtpProtocolError, match=match):
            engine.genmove("b")
        with pytest.raises(GtpEngineFailure):
            engine.name()


def test_response_without_id_is_accepted_and_vertex_normalised(tmp_path):
    with fake_engine(tmp_path, "no_id") as engine:
        assert engine.genmove("b") == "D4"


def test_stderr_flood_never_blocks_and_can_be_kept(tmp_path):
    with fake_engine(tmp_path, "stderr_flood", timeout=20.0) as engine:
        assert engine.genmove("b") == "C3"
    log = tmp_path / "engine.log"
    with fake_engine(tmp_path, "stderr_flood", timeout=20.0, stderr_path=log) as engine:
        assert engine.genmove("b") == "C3"
    assert log.stat().st_size > 1_000_000


def test_missing_executable_is_a_clear_error(tmp_path):
    with pytest.raises(GtpEngineDied, match="cannot start"):
        GtpEngine([str(tmp_path / "no-such-engine")])


def test_bad_arguments_are_refused_before_sending(tmp_path):
    with pytest.raises(ValueError, match="argv"):
        GtpEngine([])
    with pytest.raises(ValueError, match="argv"):
        GtpEngine("gnugo --mode gtp")
    with pytest.raises(ValueError, match="timeout"):
        GtpEngine([sys.executable], timeout=0)
    with fake_engine(tmp_path, "ok") as engine:
        with pytest.raises(ValueError, match="control characters"):
            engine.command("play", "black", "D4\nquit")
        with pytest.raises(ValueError, match="colour"):
            engine.play("red", "D4")
        with pytest.raises(ValueError, match="command name"):
            engine.command("")
        assert engine.name() == "fake"  # nothing half-sent desynchronised the stream


def test_closed_engine_refuses_commands(tmp_path):
    engine = fake_engine(tmp_path, "ok")
    engine.close()
    with pytest.raises(GtpEngineDied, match="closed"):
        engine.name()


def test_abandoned_engine_is_killed_by_garbage_collection(tmp_path):
    engine = fake_engine(tmp_path, "hang")
    proc: subprocess.Popen = engine._process.proc
    del engine
    gc.collect()
    assert proc.wait(timeout=5) is not None


# ---- GNU Go ---------------------------------------------------------------------------------------


@needs_gnugo
def test_gnugo_plays_lists_and_scores():
    with GtpEngine(gnugo_command(level=0), timeout=30, name="gnugo") as engine:
        assert engine.name() == "GNU Go"
        assert engine.version()
        assert engine.protocol_version() == "2"
        assert engine.known_command("all_legal")
        assert not engine.known_command("no_such_command")
        engine.boardsize(5)
        engine.clear_board()
        engine.komi(0.5)
        engine.play("black", "C3")
        engine.play("w", "c2")
        assert engine.list_stones("black") == ["C3"]
        assert engine.list_stones("white") == ["C2"]
        legal = engine.all_legal("black")
        assert len(legal) == 23 and "C3" not in legal and "C2" not in legal
        assert re.fullmatch(r"[BW]\+\d+(\.\d+)?|0", engine.final_score())
        engine.undo()
        assert engine.list_stones("white") == []
        move = engine.genmove("white")
        assert move == "pass" or move in engine.list_stones("white")


@needs_gnugo
def test_gnugo_illegal_move_and_unknown_command():
    with GtpEngine(gnugo_command(level=0), timeout=30) as engine:
        engine.boardsize(9)
        engine.clear_board()
        engine.play("b", "E5")
        with pytest.raises(GtpError) as info:
            engine.play("w", "E5")
        assert info.value.message == "illegal move"
        with pytest.raises(GtpError, match="unknown command"):
            engine.command("no_such_command")
        with pytest.raises(GtpError, match="invalid color or coordinate"):
            engine.play("b", "Z9")
        with pytest.raises(GtpError, match="cannot undo"):
            engine.clear_board()
            engine.undo()
        # Ids stayed matched through every failure: the next answers belong to their commands.
        engine.play("w", "E5")
        assert engine.list_stones("white") == ["E5"]
        assert engine._next_id > 8


@needs_gnugo
def test_gnugo_genmove_on_9x9():
    with GtpEngine(gnugo_command(level=0, seed=1), timeout=60) as engine:
        engine.boardsize(9)
        engine.clear_board()
        move = engine.genmove("black")
        assert move in engine.list_stones("black")
        reply = engine.genmove("white")
        assert reply in engine.list_stones("white") or reply in ("pass", "resign")


@needs_gnugo
def test_gnugo_command_maps_rules_to_flags():
    argv = gnugo_command(level=3, rules=Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.ALLOWED, komi=6.5), seed=7)
    assert argv[0] == GNUGO
    assert argv[1:] == [
        "--mode", "gtp", "--level", "3", "--chinese-rules", "--situational-superko", "--allow-suicide",
        "--komi", "6.5", "--seed", "7",
    ]  # fmt: skip
    assert "--positional-superko" in gnugo_command(rules=Rules(ko="positional"))
    assert "--simple-ko" in gnugo_command(rules=Rules(ko="simple"))
    assert "--forbid-suicide" in gnugo_command(rules=Rules(suicide="forbidden"))
    with pytest.raises(ValueError, match="level"):
        gnugo_command(level=11)
    with pytest.raises(ValueError, match="level"):
        gnugo_command(level=True)


def test_gnugo_command_without_gnugo_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no gnugo on PATH
    monkeypatch.setattr(gtp_client, "GNUGO_FALLBACK_PATH", str(tmp_path / "gnugo"))
    assert find_gnugo() is None
    with pytest.raises(FileNotFoundError, match="GNU Go not found"):
        gnugo_command()


@needs_gnugo
def test_gnugo_suicide_flags_take_effect():
    # Black A1 then B1 on a 5x5 walled by white A2 B2 C1: B1 kills the two black stones itself.
    moves = [("b", "E5"), ("w", "A2"), ("b", "E4"), ("w", "B2"), ("b", "D5"), ("w", "C1"), ("b", "A1"), ("w", "pass")]
    for suicide, accepted in ((SuicideRule.FORBIDDEN, False), (SuicideRule.ALLOWED, True)):
        with GtpEngine(gnugo_command(rules=Rules(ko=KoRule.SIMPLE, suicide=suicide))) as engine:
            engine.boardsize(5)
            engine.clear_board()
            for color, vertex in moves:
                engine.play(color, vertex)
            assert ("B1" in engine.all_legal("black")) == accepted
            assert "A3" in engine.all_legal("black")


def test_close_kills_helpers_the_engine_spawned(tmp_path):
    # A wrapper shell leaves a helper holding the engine's stdout: close() must not wait on it.
    script = tmp_path / "fake_hang.py"
    script.write_text(FAKE_ENGINE.format(behaviour="hang"))
    engine = GtpEngine(["sh", "-c", f"sleep 300 & exec {sys.executable} -u {script}"], timeout=0.5)
    assert engine.name() == "fake"
    with pytest.raises(GtpTimeout):
        engine.genmove("b")
    start = time.monotonic()
    engine.close(grace=0.5)
    engine._process.reader.join(timeout=5)
    assert not engine._process.reader.is_alive()  # stdout reached EOF: the helper died with the group
    assert time.monotonic() - start < 5


def test_engine_flooding_stdout_is_bounded_and_closed(tmp_path):
    # Endless lines that never end a response: the response cap (or the timeout) stops the read,
    # the bounded queue stalls the flood, and close() still ends the reader.
    script = tmp_path / "flood.py"
    script.write_text("import sys\nsys.stdin.readline()\nwhile True:\n    sys.stdout.write('=1 spam\\n' + 'line\\n' * 1000)\n")
    engine = GtpEngine([sys.executable, "-u", str(script)], timeout=5)
    with pytest.raises((GtpProtocolError, GtpTimeout)):
        engine.name()
    engine.close(grace=1.0)
    assert not engine.alive
    assert not engine._process.reader.is_alive()
