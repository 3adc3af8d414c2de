"""GTP engine in-process: framing, the command set, bad input that must change nothing, time control."""

import io
import math
import os

import numpy as np

import pytest

from alphazero.config.search import SearchConfig
from alphazero.gtp.engine import GtpEngine
from alphazero.gtp.protocol import clean_line, format_response, parse_command
from alphazero.gtp.search_player import SearchPlayer
from alphazero.gtp.server import serve
from alphazero.gtp.time_control import Clock, TimeSystem, think_time
from go_engine import board as B
from go_engine.rules import preset
from selfplay.evaluators import UniformEvaluator


def make_engine(size=9, visits=8, seed=1):
    player = SearchPlayer(UniformEvaluator(), SearchConfig(), visits=visits, history=8, seed=seed)
    return GtpEngine(player, preset("chinese"), size=size, log=lambda text: None)


def session(engine, text: str) -> list[str]:
    """Run the real server loop over ``text``; return the responses (without the blank line)."""
    out = io.StringIO()
    serve(engine, io.StringIO(text), out, log=lambda text: None)
    raw = out.getvalue()
    assert raw == "" or raw.endswith("\n\n"), repr(raw[-20:])
    return raw.split("\n\n")[:-1]


def state_snapshot(engine):
    g = engine.game
    return (g.size, g.rules, tuple(g.setup), tuple(g.moves), g.state.board.tobytes(), int(g.state.to_play[0]),
            int(g.state.ko_point[0]), g.state.pos_hash.tobytes())


# ---- framing -------------------------------------------------------------------------------------


def test_input_cleaning_in_spec_order():
    assert clean_line("  play\tb\x01 D4  # comment\n") == "play b D4"
    assert clean_line("# only a comment\n") is None
    assert clean_line("\r\n") is None
    assert clean_line("na\x00me\n") == "name"


def test_parse_command_keeps_ids():
    cmd = parse_command("17 play b D4")
    assert (cmd.id, cmd.name, cmd.args) == (17, "play", ("b", "D4"))
    assert parse_command("12").name == ""
    assert parse_command("genmove w").id is None


def test_response_framing_never_contains_an_empty_line():
    assert format_response(5, True, "D4") == "=5 D4\n\n"
    assert format_response(None, False, "illegal move") == "? illegal move\n\n"
    assert format_response(3, True, "") == "=3\n\n"
    assert format_response(1, True, "a\n\n\nb\n") == "=1 a\nb\n\n"


def test_session_ids_and_required_commands():
    engine = make_engine()
    out = session(engine, "1 protocol_version\n2 name\n3 version\n4 known_command genmove\n5 known_command frobnicate\n"
                          "list_commands\n6 boardsize 9\n7 clear_board\n8 komi 6.5\n9 play black E5\n10 quit\n11 name\n")
    assert out[0] == "=1 2"
    assert out[1] == "=2 alphazero-go"
    assert out[2].startswith("=3 ") and all(part.isdigit() for part in out[2][3:].split("."))
    assert out[3] == "=4 true" and out[4] == "=5 false"
    listed = out[5][2:].split("\n")
    for required in ("protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                     "clear_board", "komi", "play", "genmove", "undo", "showboard", "fixed_handicap", "place_free_handicap",
                     "set_free_handicap", "time_settings", "time_left", "final_score", "final_status_list", "loadsgf",
                     "printsgf", "kgs-time_settings", "kgs-genmove_cleanup", "kgs-game_over", "is_legal", "all_legal",
                     "list_stones", "gogui-analyze_commands", "lz-analyze", "kata-analyze", "lz-genmove_analyze",
                     "kata-genmove_analyze"):
        assert required in listed, required
    assert out[6:10] == ["=6", "=7", "=8", "=9"]
    assert out[10] == "=10"
    assert len(out) == 11, "nothing may be answered after quit"
    assert engine.game.komi == 6.5


def test_id_only_and_blank_lines_get_no_reply():
    out = session(make_engine(), "\n   \n12\n# comment\n3 name\n")
    assert out == ["=3 alphazero-go"]


# ---- bad input ---------------------------------------------------------------------------------------

BAD_COMMANDS = [
    ("frobnicate", "? unknown command"),
    ("play", "? syntax error"),
    ("play b", "? syntax error"),
    ("play b D4 extra", "? syntax error"),
    ("play purple D4", "? syntax error"),
    ("play b Z99", "? invalid coordinate"),
    ("play b J10", "? invalid coordinate"),
    ("play b I5", "? invalid coordinate"),
    ("play b 44", "? syntax error"),
    ("play w E5", "? illegal move"),  # occupied (E5 is played first below)
    ("komi nan", "? syntax error"),
    ("komi inf", "? syntax error"),
    ("komi -inf", "? syntax error"),
    ("komi 0.3", "? unacceptable komi"),
    ("komi abc", "? syntax error"),
    ("boardsize 0", "? unacceptable size"),
    ("boardsize 1", "? unacceptable size"),
    ("boardsize 26", "? unacceptable size"),
    ("boardsize 99999999999999999999", "? unacceptable size"),
    ("boardsize -9", "? unacceptable size"),
    ("boardsize", "? syntax error"),
    ("time_settings 10 nan 0", "? syntax error"),
    ("time_settings -5 0 0", "? main time out of range"),
    ("time_left b inf 0", "? syntax error"),
    ("time_left b -3 0", "? syntax error"),
    ("kgs-time_settings sudden 10", "? syntax error"),
    ("fixed_handicap 2", "? board not empty"),
    ("fixed_handicap 1", "? invalid number of stones"),
    ("set_free_handicap A1 B2", "? board not empty"),
    ("loadsgf /nonexistent/file.sgf", "? cannot load file"),
    ("loadsgf", "? syntax error"),
    ("final_status_list undead", "? syntax error"),
    ("genmove purple", "? syntax error"),
    ("is_legal b", "? syntax error"),
    ("list_stones green", "? syntax error"),
    ("known_command", "? syntax error"),
]


@pytest.mark.parametrize("command,expected", BAD_COMMANDS)
def test_bad_input_gets_an_error_and_changes_nothing(command, expected):
    engine = make_engine()
    session(engine, "boardsize 9\nclear_board\nplay b E5\nplay w C3\n")
    before = state_snapshot(engine)
    out = session(engine, f"7 {command}\n")
    assert len(out) == 1
    assert out[0].replace("?7", "?", 1) == expected
    assert state_snapshot(engine) == before


def test_overlong_line_and_control_bytes_keep_the_engine_in_sync():
    engine = make_engine()
    text = "1 name\n" + "play b " + "A" * 100_000 + "\n" + "2 na\x00\x07me\n" + "3 play b \x1bE5\n" + "4 list_stones black\n"
    out = session(engine, text)
    assert out[0] == "=1 alphazero-go"
    assert out[1].startswith("?")
    assert out[2] == "=2 alphazero-go"
    assert out[3] == "=3"
    assert out[4] == "=4 E5"


def test_undo_back_to_the_empty_board():
    engine = make_engine(size=5)
    moves = ["b B5", "w C5", "b A4", "w B4", "b C4", "w D4", "b B3", "w C3", "b E1", "w pass"]
    out = session(engine, "".join(f"play {m}\n" for m in moves))
    assert out == ["="] * 10
    out = session(engine, "undo\n" * 10 + "undo\n")
    assert out[:10] == ["="] * 10 and out[10] == "? cannot undo"
    assert engine.game.is_empty()


def test_simple_ko_recapture_is_illegal_over_gtp():
    engine = make_engine(size=5)
    # . X O . .      Black captures at C4 taking the white stone at B4; white may not retake at B4 at once.
    # X O . O .
    # . X O . .
    setup = ["b B5", "w C5", "b A4", "w B4", "b B3", "w C3", "b E1", "w D4"]
    assert session(engine, "".join(f"play {m}\n" for m in setup)) == ["="] * len(setup)
    assert session(engine, "play b C4\n") == ["="]
    assert "B4" not in session(engine, "list_stones white\n")[0]
    before = state_snapshot(engine)
    assert session(engine, "play w B4\n") == ["? illegal move"]
    assert state_snapshot(engine) == before
    assert session(engine, "is_legal w B4\n") == ["= 0"]
    assert session(engine, "play w E5\nplay b E4\nplay w B4\n") == ["=", "=", "="]


def test_non_alternating_moves_and_all_legal():
    engine = make_engine(size=5)
    assert session(engine, "play b C3\nplay b D3\nplay w A1\n") == ["=", "=", "="]
    legal = session(engine, "all_legal b\n")[0][2:].split()
    assert "C3" not in legal and "A1" not in legal and len(legal) == 22


def test_fixed_and_free_handicap():
    engine = make_engine(size=9)
    out = session(engine, "fixed_handicap 4\nlist_stones black\n")
    assert set(out[0][2:].split()) == {"C3", "G7", "C7", "G3"}
    assert set(out[1][2:].split()) == {"C3", "G7", "C7", "G3"}
    assert engine.game.to_play == B.WHITE
    engine2 = make_engine(size=9)
    out = session(engine2, "place_free_handicap 3\n")
    assert len(out[0][2:].split()) == 3
    engine3 = make_engine(size=9)
    out = session(engine3, "set_free_handicap A1 A1\nset_free_handicap A1 B2 C3\nlist_stones black\n")
    assert out[0] == "? bad vertex list"
    assert out[1] == "=" and set(out[2][2:].split()) == {"A1", "B2", "C3"}


def test_genmove_plays_a_legal_move_and_showboard():
    engine = make_engine(size=7)
    out = session(engine, "boardsize 7\nclear_board\ngenmove b\nshowboard\n")
    move = out[2][2:]
    assert move == "pass" or len(engine.game.stones(B.BLACK)) == 1
    assert "X" in out[3] or move == "pass"
    assert "\n\n" not in out[3]


def test_loadsgf_and_printsgf_round_trip(tmp_path):
    engine = make_engine(size=9)
    session(engine, "play b E5\nplay w C3\nplay b pass\nplay w D4\n")
    path = tmp_path / "game.sgf"
    assert session(engine, f"printsgf {path}\n") == ["="]
    other = make_engine(size=19)
    out = session(other, f"loadsgf {path}\nlist_stones white\n")
    assert out[0] == "= black" and set(out[1][2:].split()) == {"C3", "D4"}
    assert session(other, f"loadsgf {path} 3\nlist_stones white\n") == ["= black", "= C3"]
    text = session(engine, "printsgf\n")[0]
    assert "SZ[9]" in text and "B[]" in text


def test_loadsgf_refuses_truncated_and_huge_files_without_change(tmp_path):
    engine = make_engine(size=9)
    session(engine, "play b E5\n")
    before = state_snapshot(engine)
    truncated = tmp_path / "t.sgf"
    truncated.write_bytes(b"(;GM[1]FF[4]SZ[9];B[ee];W[c")
    huge = tmp_path / "h.sgf"
    huge.write_bytes(b"(;GM[1]SZ[9]C[" + b"x" * (6 << 20) + b"])")
    illegal = tmp_path / "i.sgf"
    illegal.write_bytes(b"(;GM[1]FF[4]SZ[9];B[ee];W[ee])")
    for path in (truncated, huge, illegal, tmp_path):
        assert session(engine, f"loadsgf {path}\n") == ["? cannot load file"]
        assert state_snapshot(engine) == before


def test_final_score_on_a_finished_position():
    engine = make_engine(size=5)
    # Black owns the left three columns, white the right: B+5 - komi... use komi 0.5
    moves = []
    for r in range(1, 6):
        moves += [f"b C{r}", f"w D{r}"]
    out = session(engine, "komi 0.5\n" + "".join(f"play {m}\n" for m in moves) + "final_score\nfinal_status_list dead\n")
    assert out[-2] == "= B+4.5"  # 15 black points against 10 white, komi 0.5
    assert out[-1] == "="


def test_dead_stones_are_removed_by_final_score():
    engine = make_engine(size=5)
    # White lives in the right two columns; a lone black stone at E3 inside white's area is dead.
    moves = []
    for r in range(1, 6):
        moves += [f"b C{r}", f"w D{r}"]
    moves += ["b E3"]
    out = session(engine, "komi 0.5\n" + "".join(f"play {m}\n" for m in moves) + "final_status_list dead\nfinal_score\n")
    assert out[-2] == "= E3"
    assert out[-1] == "= B+4.5"


def test_time_management_never_loses_on_time():
    clock = Clock()
    clock.reset(TimeSystem("byoyomi", 0, 30, 1, 5))
    clock.update(30, 5)
    t = think_time(clock, 300, 361)
    assert 0 < t < 30 - 1
    clock.reset(TimeSystem.from_gtp(600, 60, 25))  # canadian: 25 moves in 60 s after main time
    clock.update(60, 25)
    assert think_time(clock, 300, 361) < 60 / 25
    clock.reset(TimeSystem.from_gtp(60, 0, 0))  # absolute: 60 s for the whole game
    clock.update(60, 0)
    assert think_time(clock, 361, 361) < 60 / 20
    assert think_time(Clock(), 10, 81) is None
    clock.reset(TimeSystem.from_gtp(1, 5, 0))  # byo time > 0 with 0 stones: no limit
    assert think_time(clock, 10, 81) is None


@pytest.mark.serial  # wall-clock: another test's load would eat the 2 s period
def test_genmove_respects_time_left_in_byoyomi():
    engine = make_engine(size=9, visits=100000)
    import time

    session(engine, "kgs-time_settings byoyomi 0 2 3\ntime_left b 2 3\n")
    start = time.monotonic()
    out = session(engine, "genmove b\n")
    elapsed = time.monotonic() - start
    assert out[0].startswith("= ")
    assert elapsed < 2.0, f"spent {elapsed:.2f}s of a 2 s byo-yomi period"


def test_lz_analyze_stops_on_next_line_and_play_succeeds():
    engine = make_engine(size=9, visits=16)
    out = io.StringIO()
    serve(engine, io.StringIO("5 lz-analyze b 1\nplay b E5\n"), out, log=lambda text: None)
    text = out.getvalue()
    assert text.startswith("=5\n")
    blocks = text.split("\n\n")
    assert blocks[-1] == "" and blocks[-2] == "="
    for line in blocks[0].split("\n")[1:]:
        assert line.startswith("info move "), line
    assert engine.game.stones(B.BLACK) == [40]


def test_kata_genmove_analyze_ends_with_play():
    engine = make_engine(size=9, visits=32)
    out = io.StringIO()
    serve(engine, io.StringIO("kata-genmove_analyze b 1 ownership true\n"), out, log=lambda text: None)
    lines = out.getvalue().split("\n")
    assert lines[0] == "="
    play = [line for line in lines if line.startswith("play ")]
    assert len(play) == 1
    infos = [line for line in lines if line.startswith("info ")]
    assert infos, "at least one info line (the final report)"
    fields = infos[-1].split()
    for key in ("move", "visits", "winrate", "scoreLead", "prior", "lcb", "order", "pv"):
        assert key in fields
    winrate = float(fields[fields.index("winrate") + 1])
    assert 0.0 <= winrate <= 1.0 and math.isfinite(winrate)
    assert out.getvalue().endswith("\n\n")


def test_tree_is_reused_after_our_move_and_the_reply():
    engine = make_engine(size=5, visits=300)
    session(engine, "genmove b\n")
    player = engine.player
    ours = engine.game.moves[-1][1]
    kept_after_reply = None
    # The opponent answers with the move our search explored most below our move.
    t = player._mcts.tree
    child = int(t.children[0, 0, ours])
    visits = [int(t.visits[0, c]) if c >= 0 else 0 for c in t.children[0, child]]
    reply = int(np.argmax(visits))
    kept_after_reply = visits[reply]
    assert kept_after_reply > 0
    from go_engine import coords

    session(engine, f"play w {coords.action_to_gtp(reply, 5)}\n")
    mcts = player._tree_for(engine.game, allow_pass=True)
    assert int(mcts.tree.visits[0, 0]) == kept_after_reply, "the reply's subtree was not reused"
    out = session(engine, "genmove b\n")
    assert out[0].startswith("= ")
    assert int(player._mcts.tree.visits[0, 0]) >= 300


def test_pondering_searches_until_the_next_command():
    import threading
    import time

    engine = GtpEngine(SearchPlayer(UniformEvaluator(), SearchConfig(), visits=16, history=8, seed=1),
                       preset("chinese"), size=9, ponder=True, log=lambda text: None)
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "r")
    writer = os.fdopen(write_fd, "w")
    out = io.StringIO()
    server = threading.Thread(target=serve, args=(engine, reader, out, lambda text: None), daemon=True)
    server.start()
    writer.write("genmove b\n")
    writer.flush()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "\n\n" not in out.getvalue():
        time.sleep(0.05)
    time.sleep(1.0)  # the opponent "thinks" for a second: we ponder
    pondered = int(engine.player._mcts.tree.visits[0, 0])
    assert pondered > 16, f"no pondering happened ({pondered} visits at the opponent's root)"
    writer.write("name\nquit\n")
    writer.flush()
    server.join(timeout=60)
    assert not server.is_alive()
    assert out.getvalue().split("\n\n")[1] == "= alphazero-go"


def test_every_registered_command_answers_junk_arguments_without_an_internal_error():
    from alphazero.gtp.commands import HANDLERS, STREAMING

    engine = make_engine(size=5)
    session(engine, "play b C3\n")
    before = state_snapshot(engine)
    names = sorted((set(HANDLERS) | set(STREAMING)) - {"quit"})
    assert session(engine, "list_commands\n")[0][2:].split("\n") == [*HANDLERS, *STREAMING]
    out = session(engine, "".join(f"{name} x 7 +1 -2\n" for name in names))
    assert len(out) == len(names)
    for name, reply in zip(names, out):
        assert "internal error" not in reply, (name, reply)
        assert name in ("list_commands", "kgs-game_over", "protocol_version", "name", "version") or reply.startswith("?"), (name, reply)
    assert state_snapshot(engine) == before


def test_undo_after_two_passes_and_a_dispute_move():
    engine = make_engine(size=5)
    assert session(engine, "play b pass\nplay w pass\nplay b C3\nundo\nundo\n") == ["="] * 5
    assert engine.game.moves == [(B.BLACK, 25)]
