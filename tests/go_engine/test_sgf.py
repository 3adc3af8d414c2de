"""SGF records: round trips, external-style files, replay against board.play and GNU Go, and refusals."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace

import numba
import numpy as np
import pytest
from sgfmill import sgf as sgfmill_sgf

from go_engine import ascii_board, board, compiled, coords
from go_engine import sgf
from go_engine.rules import PRESETS, KoRule, Rules, SuicideRule
from go_engine.sgf import BLACK, WHITE, GameResult, SgfError, SgfGame

GNUGO = "/usr/games/gnugo"


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    # Every call here is a batch of one: a parallel launch only adds latency (milliseconds per
    # call when the two cores are busy). Restored afterwards for the other test modules.
    previous = numba.get_num_threads()
    compiled.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


def random_moves(n: int, rules: Rules, rng: np.random.Generator, count: int, pass_prob: float = 0.05) -> list[tuple[int, int]]:
    """A legal game of up to ``count`` moves (uniform over legal board moves, passes now and then)."""
    state = board.state_for(rules, 1, n)
    moves = []
    for _ in range(count):
        if state.done[0]:
            break
        legal = np.flatnonzero(board.legal_mask(state, rules)[0][: n * n])
        a = n * n if legal.size == 0 or rng.random() < pass_prob else int(rng.choice(legal))
        colour = int(state.to_play[0])
        assert board.play(state, a, rules)[0]
        moves.append((colour, a))
    return moves


def assert_states_equal(a: board.BoardState, b: board.BoardState) -> None:
    for name, x, y in zip(board.BoardState._fields, a, b):
        assert np.array_equal(x, y), f"field {name} differs"


# ---- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("komi", [0.0, 6.5, 7.0, -3.5])
def test_round_trip_with_passes_handicap_result_metadata(komi):
    n = 9
    handicap = [coords.gtp_to_action(v, n) for v in ("C3", "G7")]
    game = SgfGame(
        size=n,
        rules=PRESETS["chinese"].with_komi(komi),
        moves=((WHITE, coords.gtp_to_action("E5", n)), (BLACK, n * n), (WHITE, n * n)),
        handicap=2,
        setup_black=tuple(handicap),
        result=GameResult(WHITE, 12.5, "score"),
        black_player="net-0001",
        white_player="net-0002",
        date="2026-05-09",
        metadata={"gameHash": "0123ABCD", "gtype": "normal", "startTurnIdx": "0"},
    )
    data = sgf.to_sgf_bytes(game)
    back = sgf.from_sgf_bytes(data)
    assert back == game
    assert back.komi == komi
    assert b"B[]" in data and b"W[]" in data and b"tt" not in data
    assert b"HA[2]" in data and b"AB[cg][gc]" in data


def test_header_properties():
    data = sgf.to_sgf_bytes(SgfGame(size=13))
    assert data.startswith(b"(;FF[4]")
    for prop in (b"GM[1]", b"CA[UTF-8]", b"SZ[13]", b"KM[7.5]", b"RU[Chinese]", b"AP[alphazero-go:"):
        assert prop in data
    assert b"RE[" not in data and b"HA[" not in data


@pytest.mark.parametrize(
    "result, text",
    [
        (GameResult(BLACK, 3.5, "score"), "B+3.5"),
        (GameResult(WHITE, 12.0, "score"), "W+12"),
        (GameResult(WHITE, None, "resign"), "W+R"),
        (GameResult(BLACK, None, "time"), "B+T"),
        (GameResult(WHITE, None, "forfeit"), "W+F"),
        (GameResult(None, 0.0, "draw"), "0"),
        (GameResult(None, None, "void"), "Void"),
        (GameResult(None, None, "unknown"), "?"),
        (GameResult(BLACK, None, "unknown"), "B+"),
    ],
)
def test_result_round_trip(result, text):
    assert result.to_sgf() == text
    assert GameResult.from_sgf(text) == result
    game = SgfGame(size=5, result=result)
    data = sgf.to_sgf_bytes(game)
    assert f"RE[{text}]".encode() in data
    assert sgf.from_sgf_bytes(data).result == result


@pytest.mark.parametrize(
    "text, expected",
    [
        ("W+Resign", GameResult(WHITE, None, "resign")),
        ("b+time", GameResult(BLACK, None, "time")),
        ("B+Forfeit", GameResult(BLACK, None, "forfeit")),
        ("Draw", GameResult(None, 0.0, "draw")),
        (" w+0.5 ", GameResult(WHITE, 0.5, "score")),
        ("B+nonsense", GameResult(BLACK, None, "unknown")),
        ("B+-3", GameResult(BLACK, None, "unknown")),
        ("who knows", GameResult(None, None, "unknown")),
    ],
)
def test_result_parsing_of_other_spellings(text, expected):
    assert GameResult.from_sgf(text) == expected


def test_result_from_score():
    assert GameResult.from_score(2.5) == GameResult(BLACK, 2.5, "score")
    assert GameResult.from_score(-0.5) == GameResult(WHITE, 0.5, "score")
    assert GameResult.from_score(0.0) == GameResult(None, 0.0, "draw")


@pytest.mark.parametrize("bad", [dict(winner=None, margin=3.0, reason="score"), dict(winner=BLACK, margin=-1.0, reason="score"),
                                 dict(winner=BLACK, margin=None, reason="draw"), dict(winner=BLACK, margin=2.0, reason="resign"),
                                 dict(winner=None, margin=None, reason="lost on time")])
def test_inconsistent_results_are_refused(bad):
    with pytest.raises(SgfError):
        GameResult(**bad)


@pytest.mark.parametrize(
    "rules, ru",
    [
        (PRESETS["chinese"], "Chinese"),
        (PRESETS["tromp-taylor"], "Tromp-Taylor"),
        (PRESETS["new-zealand"], "NZ"),
        (PRESETS["simple-ko"], "koSIMPLEscoreAREAsui0"),
        (Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.FORBIDDEN, komi=5.5), "koSITUATIONALscoreAREAsui0"),
        (PRESETS["japanese"], "Japanese"),
        (PRESETS["aga"], "AGA"),
        (PRESETS["stone-scoring"], "koSIMPLEscoreAREAtaxALLsui0"),
        (Rules(ko=KoRule.SIMPLE, scoring="territory", tax="none", komi=6.5), "koSIMPLEscoreTERRITORYtaxNONEsui0"),
        (Rules(ko=KoRule.POSITIONAL, white_handicap_bonus="N-1"), "koPOSITIONALscoreAREAsui0whbN-1"),
    ],
)
def test_rules_round_trip_through_ru(rules, ru):
    data = sgf.to_sgf_bytes(SgfGame(size=9, rules=rules))
    assert f"RU[{ru}]".encode() in data
    assert sgf.from_sgf_bytes(data).rules == rules


@pytest.mark.parametrize(
    "ru, expected",
    [
        ("chinese", PRESETS["chinese"]),
        ("Tromp Taylor", PRESETS["tromp-taylor"]),
        ("koPOSITIONALscoreAREAtaxNONEsui1", PRESETS["tromp-taylor"]),
        ("koSPIGHTscoreAREAsui0", Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.FORBIDDEN)),
        ("Japanese", PRESETS["japanese"]),
        ("jp", PRESETS["japanese"]),
        ("korean", PRESETS["korean"]),
        ("AGA", PRESETS["aga"]),
        ("NZ", PRESETS["new-zealand"]),
        ("koSIMPLEscoreTERRITORYtaxSEKIsui0", PRESETS["japanese"]),
        ("koSIMPLEscoreTERRITORYsui0", PRESETS["japanese"]),  # territory without tax: seki, as KataGo
        ("koSITUATIONALscoreAREAsui0whbN-1", PRESETS["aga"]),
        ("koSIMPLEscoreAREAtaxALLsui0", PRESETS["stone-scoring"]),
        ("Ing", PRESETS["chinese"]),  # unknown: chinese with the record's komi
        ("koSIMPLEscoreAREAsui0button1", PRESETS["chinese"]),  # a button is not supported
    ],
)
def test_known_and_unknown_ru_names(ru, expected):
    game = sgf.from_sgf_bytes(f"(;GM[1]SZ[9]KM[6.5]RU[{ru}];B[ee])".encode())
    assert game.rules == expected.with_komi(6.5)


def test_missing_km_means_zero_komi_and_missing_sz_means_19():
    game = sgf.from_sgf_bytes(b"(;GM[1];B[pd];W[dp])")
    assert game.size == 19 and game.komi == 0.0
    assert game.moves == ((BLACK, coords.gtp_to_action("Q16", 19)), (WHITE, coords.gtp_to_action("D4", 19)))


def test_text_with_escapes_and_non_ascii_round_trips():
    game = SgfGame(size=9, black_player="a]b\\c", white_player="Lee Sedol 이세돌", comment="a plain comment, with a comma")
    back = sgf.from_sgf_bytes(sgf.to_sgf_bytes(game))
    assert back == game
    assert back.metadata == {}


@pytest.mark.parametrize("metadata", [{"k": "a,b"}, {"a=b": "c"}, {"": "x"}, {"k": "line\nbreak"}])
def test_metadata_that_cannot_be_written_is_refused(metadata):
    with pytest.raises(SgfError, match="metadata"):
        SgfGame(size=9, metadata=metadata)


def test_random_records_round_trip():
    rng = np.random.default_rng(7)
    for i in range(12):
        n = int(rng.choice([2, 3, 5, 7, 9, 13, 19]))
        rules = PRESETS[list(PRESETS)[i % len(PRESETS)]].with_komi(float(rng.integers(-20, 20)) / 2)
        moves = random_moves(n, rules, rng, count=int(rng.integers(0, min(3 * n * n, 250))), pass_prob=0.1)
        margin = float(rng.integers(1, 40)) / 2
        game = SgfGame(size=n, rules=rules, moves=tuple(moves), result=GameResult.from_score(margin * rng.choice([-1, 1])),
                       metadata={"seed": str(i), "v": "1"})
        assert sgf.from_sgf_bytes(sgf.to_sgf_bytes(game)) == game


# ---- external-style records ----------------------------------------------------------------------


KATAGO_STYLE = b"""(;FF[4]GM[1]SZ[9]HA[0]KM[7]RU[koPOSITIONALscoreAREAtaxNONEsui1]RE[W+4]
PB[kata1-b6c96-s1]PW[kata1-b6c96-s1]C[startTurnIdx=0,initTurnNum=0,gameHash=8E1B1F2A,gtype=normal]
;B[ee]C[0.45 0.55 0.00 -1.2 v=50];W[gc]C[0.44 0.56 0.00 -1.0 v=50];B[];W[])
"""


def test_katago_style_record():
    game = sgf.from_sgf_bytes(KATAGO_STYLE)
    assert game.size == 9 and game.komi == 7.0 and game.rules == PRESETS["tromp-taylor"].with_komi(7.0)
    assert game.result == GameResult(WHITE, 4.0, "score")
    assert game.metadata == {"startTurnIdx": "0", "initTurnNum": "0", "gameHash": "8E1B1F2A", "gtype": "normal"}
    assert game.black_player == "kata1-b6c96-s1"
    assert game.moves == ((BLACK, 40), (WHITE, 2 * 9 + 6), (BLACK, 81), (WHITE, 81))
    assert sgf.replay(game).done[0]


def test_sgfmill_style_tt_passes():
    # A record written by sgfmill itself: set_move(colour, None) serialises a pass as "tt".
    out = sgfmill_sgf.Sgf_game(size=9)
    out.get_root().set("KM", 6.5)
    for colour, move in (("b", (4, 4)), ("w", None), ("b", (0, 0)), ("w", None)):
        out.extend_main_sequence().set_move(colour, move)
    data = out.serialise()
    assert b"W[tt]" in data
    game = sgf.from_sgf_bytes(data)
    # sgfmill's (row, col) counts rows from the bottom.
    assert game.moves == ((BLACK, 4 * 9 + 4), (WHITE, 81), (BLACK, 8 * 9 + 0), (WHITE, 81))


def test_mixed_case_identifiers_odd_order_whitespace_and_compressed_setup():
    data = b"""  junk before (;  SZ [9:9] KoMi[ 5.5 ]  GaMe[1] AddBlack[aa:bb][ee] AW[ii]
    ; C[comment before the move] W[cc] ;B[]N[node name] )  junk after"""
    game = sgf.from_sgf_bytes(data)
    assert game.size == 9 and game.komi == 5.5
    assert sorted(game.setup_black) == [0, 1, 9, 10, 40] and game.setup_white == (80,)
    assert game.moves == ((WHITE, 2 * 9 + 2), (BLACK, 81))


def test_variations_take_the_main_line():
    data = b"(;GM[1]SZ[5];B[cc](;W[bb];B[dd](;W[aa])(;W[ee]))(;W[dd];B[bb]))"
    game = sgf.from_sgf_bytes(data)
    assert game.moves == ((BLACK, 12), (WHITE, 6), (BLACK, 18), (WHITE, 0))


def test_non_alternating_moves_replay_with_the_given_colour():
    game = sgf.from_sgf_bytes(b"(;GM[1]SZ[5];B[aa];B[bb];W[cc])")
    state = sgf.replay(game)
    assert ascii_board.to_ascii(state) == ascii_board.normalise("""
        X . . . .
        . X . . .
        . . O . .
        . . . . .
        . . . . .
    """)
    assert state.to_play[0] == BLACK


# ---- replay --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed, preset", list(enumerate(sorted(PRESETS))))
def test_replay_equals_playing_the_moves(seed, preset):
    rng = np.random.default_rng(seed)
    n = 7
    rules = PRESETS[preset]
    moves = random_moves(n, rules, rng, count=150, pass_prob=0.03)
    game = sgf.from_sgf_bytes(sgf.to_sgf_bytes(SgfGame(size=n, rules=rules, moves=tuple(moves))))
    expected = board.state_for(rules, 1, n)
    for _, a in moves:
        assert board.play(expected, a, rules)[0]
    assert_states_equal(sgf.replay(game), expected)


def test_replay_with_handicap_setup_equals_setup_then_moves():
    n, rules = 9, PRESETS["chinese"].with_komi(0.5)
    stones = [coords.gtp_to_action(v, n) for v in ("C3", "G7", "G3")]
    rng = np.random.default_rng(3)
    expected = board.state_for(rules, 1, n)
    board.setup_stones(expected, 0, stones, [BLACK] * 3, WHITE, rules)
    moves = []
    for _ in range(60):
        legal = np.flatnonzero(board.legal_mask(expected, rules)[0][: n * n])
        a = int(rng.choice(legal))
        moves.append((int(expected.to_play[0]), a))
        board.play(expected, a, rules)
    game = SgfGame(size=n, rules=rules, moves=tuple(moves), handicap=3, setup_black=tuple(stones))
    assert moves[0][0] == WHITE
    replayed = sgf.replay(sgf.from_sgf_bytes(sgf.to_sgf_bytes(game)))
    assert float(replayed.komi[0]) == 0.5 + 3  # white's handicap bonus N (chinese), as the count applies it
    expected.komi[0] = 0.5 + 3
    assert_states_equal(replayed, expected)
    # Under rules without a bonus the replayed komi is the rules' own.
    no_bonus = replace(game, rules=PRESETS["tromp-taylor"].with_komi(0.5), moves=())
    assert float(sgf.replay(no_bonus).komi[0]) == 0.5


def test_replay_capture_ascii():
    game = sgf.from_sgf_bytes(b"(;GM[1]SZ[5]KM[0];B[ba];W[aa];B[];W[cb];B[ab])")
    state = sgf.replay(game)
    assert ascii_board.to_ascii(state) == ascii_board.normalise("""
        . X . . .
        X . O . .
        . . . . .
        . . . . .
        . . . . .
    """)
    assert state.to_play[0] == WHITE and state.num_moves[0] == 5


@pytest.mark.parametrize(
    "record, message",
    [
        (b"(;GM[1]SZ[5];B[cc];W[dd];B[cc])", r"move 3 \(B C3\) is illegal: the point is occupied"),
        (b"(;GM[1]SZ[5];B[ab];W[cc];B[ba];W[aa])", r"move 4 \(W A5\) is illegal: it is suicide"),
        (b"(;GM[1]SZ[5];B[];W[];B[cc])", r"move 3 .* the game is already over"),
        (b"(;GM[1]SZ[5]AB[cc];W[cc])", r"move 1 \(W C3\) is illegal: the point is occupied"),
    ],
)
def test_illegal_move_names_the_move(record, message):
    with pytest.raises(SgfError, match=message):
        sgf.replay(sgf.from_sgf_bytes(record))


def test_replay_ko_violation():
    position = """
        . X O . .
        X O . O .
        . X O . .
        . . . . .
        . . . . .
    """
    n, black, white = ascii_board.parse(position)
    game = SgfGame(size=n, setup_black=tuple(black), setup_white=tuple(white),
                   moves=((BLACK, coords.gtp_to_action("C4", n)), (WHITE, coords.gtp_to_action("B4", n))))
    # Black C4 takes the white stone at B4; white retaking at once is forbidden under every ko rule.
    for preset in PRESETS.values():
        with pytest.raises(SgfError, match=r"move 2 \(W B4\) is illegal: it is forbidden by the ko rule"):
            sgf.replay(sgf.from_sgf_bytes(sgf.to_sgf_bytes(replace(game, rules=preset))))
        state = sgf.replay(sgf.moves_until(game, 2).game)
        assert ascii_board.to_ascii(state) == ascii_board.normalise(position.replace("X O . O", "X . X O"))


MOVES_UNTIL_RECORD = b"(;FF[4]GM[1]SZ[9]KM[6.5]HA[2]AB[cg][gc];W[ee];B[];W[dd];W[ff];B[cc])"


@pytest.mark.gnugo
@pytest.mark.parametrize("move_number", [None, 1, 2, 3, 4, 5, 6, 7, 100])
def test_moves_until_matches_gnugo_loadsgf(tmp_path, move_number):
    if not os.path.exists(GNUGO):
        pytest.skip("GNU Go is not installed at /usr/games/gnugo")
    path = tmp_path / "game.sgf"
    path.write_bytes(MOVES_UNTIL_RECORD)
    arg = "" if move_number is None else f" {move_number}"
    commands = f"loadsgf {path}{arg}\nlist_stones black\nlist_stones white\nquit\n"
    reply = subprocess.run([GNUGO, "--mode", "gtp"], input=commands, capture_output=True, text=True, timeout=30).stdout
    answers = [block.strip()[1:].strip() for block in reply.strip().split("\n\n")]
    gnugo_colour, gnugo_black, gnugo_white = answers[0], set(answers[1].split()), set(answers[2].split())

    position = sgf.moves_until(sgf.read_sgf(path), move_number)
    state = sgf.replay(position.game, to_play=position.to_play)
    n = 9
    ours = {c: {coords.action_to_gtp(a, n) for a in range(n * n) if state.board[0, coords.action_to_point(a, n)] == c} for c in (BLACK, WHITE)}
    assert ours[BLACK] == gnugo_black and ours[WHITE] == gnugo_white
    assert {BLACK: "black", WHITE: "white"}[position.to_play] == gnugo_colour
    assert int(state.to_play[0]) == position.to_play


def test_moves_until_cuts_moves_and_result():
    game = sgf.from_sgf_bytes(b"(;GM[1]SZ[9]RE[B+R];B[aa];W[bb];B[cc])")
    pos = sgf.moves_until(game, 2)
    assert pos.game.moves == ((BLACK, 0),) and pos.game.result is None and pos.to_play == WHITE
    assert sgf.moves_until(game, 4).game == game
    for bad in (0, -1, "3", 2.0):
        with pytest.raises(SgfError, match="move number"):
            sgf.moves_until(game, bad)


# ---- files ---------------------------------------------------------------------------------------


def test_write_and_read_file(tmp_path):
    path = tmp_path / "g.sgf"
    game = SgfGame(size=9, moves=((BLACK, 40), (WHITE, 81)), result=GameResult(BLACK, None, "resign"))
    path.write_bytes(sgf.to_sgf_bytes(game))
    assert sgf.read_sgf(path) == game


def test_read_missing_file(tmp_path):
    with pytest.raises(SgfError, match="cannot read"):
        sgf.read_sgf(tmp_path / "nope.sgf")


def test_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.sgf"
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    start = time.perf_counter()
    with pytest.raises(SgfError, match="more than"):
        sgf.read_sgf(path)
    assert time.perf_counter() - start < 0.5


# ---- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "malformed SGF: no SGF data"),
        (b"hello world", "malformed SGF"),
        (b"(;GM[1]SZ[9];B[aa]", "malformed SGF: unexpected end"),
        (b"(;GM[1]SZ[9];B[aa", "malformed SGF"),
        (b"(;GM[1]SZ[9]B)", "malformed SGF: property with no values"),
        (b"(;GM[1]SZ[9:7])", "only square boards"),
        (b"(;GM[1]SZ[25])", r"board size must be in \[2, 19\]"),
        (b"(;GM[1]SZ[1])", r"board size must be in \[2, 19\]"),
        (b"(;GM[1]SZ[abc])", "not a board size"),
        (b"(;GM[2]SZ[9])", "not a game of Go"),
        (b"(;GM[1]SZ[9];B[jj])", r"move 1 \(B\[jj\]\): .*off a 9x9 board"),
        (b"(;GM[1]SZ[9];B[ee];W[zz])", r"move 2 \(W\[zz\]\)"),
        (b"(;GM[1]SZ[9];B[e])", r"move 1"),
        (b"(;GM[1]SZ[9]AB[aa][kk])", r"AB\[kk\]"),
        (b"(;GM[1]SZ[9]AB[aa]AW[aa])", "repeat a point"),
        (b"(;GM[1]SZ[9]AE[aa])", "AE"),
        (b"(;GM[1]SZ[9];B[aa];AB[bb];W[cc])", "setup stones .* after the root"),
        (b"(;GM[1]SZ[9];B[aa]W[bb])", "both B and W"),
        (b"(;GM[1]SZ[9]KM[abc])", "bad KM"),
        (b"(;GM[1]SZ[9]KM[6.3])", "bad KM"),
        (b"(;GM[1]SZ[9]HA[two])", "bad HA"),
        (b"(;GM[1]SZ[9];b[aa])", "no upper-case letter"),
        (b"(;GM[1]SZ[9]PB[caf\xe9])", "not UTF-8"),
        (b"\xff\xfe(;GM[1])", "not UTF-8"),
    ],
)
def test_bad_records_raise_sgf_error(data, message):
    with pytest.raises(SgfError, match=message):
        sgf.from_sgf_bytes(data)


def test_sgf_error_is_a_value_error():
    assert issubclass(SgfError, ValueError)


def test_non_bytes_input_is_refused():
    with pytest.raises(SgfError, match="must be bytes"):
        sgf.from_sgf_bytes("(;GM[1])")


def test_50_mb_input_is_refused_fast():
    data = b"(;GM[1]SZ[19]" + b";B[aa]" * (50 * 1024 * 1024 // 6) + b")"
    start = time.perf_counter()
    with pytest.raises(SgfError, match="more than the"):
        sgf.from_sgf_bytes(data)
    assert time.perf_counter() - start < 0.5


def test_custom_byte_limit():
    data = sgf.to_sgf_bytes(SgfGame(size=9))
    with pytest.raises(SgfError, match="more than the 10 allowed"):
        sgf.from_sgf_bytes(data, max_bytes=10)


@pytest.mark.parametrize("depth", [200_000, 2_000_000])
def test_pathological_nesting_is_refused_fast(depth):
    data = b"(;GM[1]SZ[9]" + b"(;C[x]" * depth + b")" * (depth + 1)
    start = time.perf_counter()
    with pytest.raises(SgfError):
        sgf.from_sgf_bytes(data)
    assert time.perf_counter() - start < 0.5


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_moderate_nesting_parses_in_linear_time():
    """Nesting costs no more than a flat game of as many nodes, within a factor that only a
    quadratic walk would exceed (both timed in this test, so a loaded machine slows both)."""
    depth = 5000  # within MAX_PARENS: parsed, and the main line is the first child at every level
    data = b"(;GM[1]SZ[9]" + b"(;C[x]" * depth + b";B[cc]" + b")" * (depth + 1)
    flat = b"(;GM[1]SZ[9]" + b";C[x]" * depth + b";B[cc])"
    assert sgf.from_sgf_bytes(data).moves == ((BLACK, 2 * 9 + 2),)
    reference = min(_seconds(lambda: sgf.from_sgf_bytes(flat)) for _ in range(3))
    nested = min(_seconds(lambda: sgf.from_sgf_bytes(data)) for _ in range(3))
    assert nested < 10 * reference + 0.25, (nested, reference)


def test_too_many_moves_is_refused():
    data = b"(;GM[1]SZ[19]" + b";B[aa]" * (sgf.MAX_MOVES + 1) + b")"
    with pytest.raises(SgfError, match="more than 10000 moves"):
        sgf.from_sgf_bytes(data)


def test_huge_escaped_comment_parses_in_linear_time():
    data = b"(;GM[1]SZ[9]C[" + b"\\]" * 1_000_000 + b"];B[aa])"
    plain = b"(;GM[1]SZ[9]C[" + b"x" * 2_000_000 + b"];B[aa])"  # as many bytes, no escapes
    game = sgf.from_sgf_bytes(data)
    assert game.comment == "]" * 1_000_000 and game.moves == ((BLACK, 0),)
    reference = _seconds(lambda: sgf.from_sgf_bytes(plain))
    assert _seconds(lambda: sgf.from_sgf_bytes(data)) < 10 * reference + 0.5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=20), "board size"),
        (dict(size=9, moves=((3, 0),)), "colour"),
        (dict(size=9, moves=((BLACK, 82),)), "off a 9x9 board"),
        (dict(size=9, setup_black=(81,)), "off a 9x9 board"),
        (dict(size=9, handicap=-1), "handicap"),
        (dict(size=9, metadata={"a": "b"}, comment="c"), "not both"),
        (dict(size=9, rules="chinese"), "Rules"),
    ],
)
def test_invalid_game_fields(kwargs, message):
    with pytest.raises(SgfError, match=message):
        SgfGame(**kwargs)


def test_game_is_frozen_and_hashable():
    game = SgfGame(size=9, moves=[(BLACK, 1)], metadata={"a": "b"})
    assert game.moves == ((BLACK, 1),)
    with pytest.raises(AttributeError):
        game.size = 5  # type: ignore[misc]
    assert hash(game) == hash(SgfGame(size=9, moves=((BLACK, 1),), metadata={"a": "b"}))

