"""GTP under named rule sets: KataGo's rules commands, KGS's, territory counts in final_score and
final_status_list, and a Japanese-rules bot that passes instead of filling dame or its own area."""

from __future__ import annotations

import io
import json

import pytest

from alphazero.config.search import SearchConfig
from alphazero.gtp.engine import GtpEngine
from alphazero.gtp.search_player import SearchPlayer
from alphazero.gtp.server import serve
from go_engine import ascii_board
from go_engine import board as B
from go_engine.rules import preset
from selfplay.evaluators import AreaScoreEvaluator, UniformEvaluator


def make_engine(rules="chinese", size=9, visits=8, evaluator=None):
    player = SearchPlayer(evaluator or UniformEvaluator(), SearchConfig(), visits=visits, history=8, seed=1)
    return GtpEngine(player, preset(rules), size=size, log=lambda text: None)


def session(engine, text: str) -> list[str]:
    out = io.StringIO()
    serve(engine, io.StringIO(text), out, log=lambda text: None)
    return out.getvalue().split("\n\n")[:-1]


def test_kata_get_and_set_rules():
    engine = make_engine()
    out = session(engine, "komi 3\nkata-get-rules\nkata-set-rules japanese\nkata-get-rules\nkata-get-rules x\n")
    chinese = json.loads(out[1][2:])
    assert chinese == {"friendlyPassOk": True, "hasButton": False, "ko": "POSITIONAL", "scoring": "AREA",
                       "suicide": False, "tax": "NONE", "whiteHandicapBonus": "N"}
    assert out[1][2:] == json.dumps(chinese, sort_keys=True, separators=(",", ":"))  # keys in alphabetical order
    assert out[2] == "="
    japanese = json.loads(out[3][2:])
    assert (japanese["ko"], japanese["scoring"], japanese["tax"], japanese["whiteHandicapBonus"]) == ("SIMPLE", "TERRITORY", "SEKI", "0")
    assert engine.game.rules == preset("japanese").with_komi(3.0)  # the komi is kept
    assert out[4].startswith("? Expected no arguments")


def test_kata_set_rules_json_and_errors():
    engine = make_engine()
    out = session(engine, 'kata-set-rules {"ko":"SIMPLE","scoring":"TERRITORY","suicide":false}\n'
                          'kata-set-rules ing rules\nkata-set-rules {"komi":6.5}\nkata-set-rules {"hasButton":true}\n'
                          'kata-set-rule tax NONE\nkata-set-rule score AREA\nkata-set-rule frob 1\nkata-set-rule suicide maybe\n')
    assert out[0] == "="
    assert out[1].startswith("? Unknown rules 'ing rules', ")
    assert out[2].startswith("? Unknown rules '{\"komi\":6.5}', ") and "komi" in out[2]
    assert out[3].startswith("? Unknown rules") and "button" in out[3]
    assert out[4] == "=" and out[5] == "="
    assert out[6].startswith("? Unknown rules option") and out[7].startswith("? suicide must be true or false")
    r = engine.game.rules
    assert (r.scoring.name, r.tax.name, r.ko.name) == ("AREA", "NONE", "SIMPLE")


def test_kgs_rules_names():
    engine = make_engine()
    for name, expected in (("japanese", "japanese"), ("chinese", "chinese"), ("aga", "aga"), ("new_zealand", "new-zealand")):
        assert session(engine, f"kgs-rules {name}\n") == ["="]
        assert engine.game.rules == preset(expected).with_komi(engine.game.rules.komi)
    assert session(engine, "kgs-rules ing\n")[0].startswith("? unknown rules")
    assert "kata-set-rules" in session(engine, "list_commands\n")[0]


def test_rules_change_mid_game_replays_the_moves_and_refuses_an_illegal_history():
    engine = make_engine("tromp-taylor", size=5)
    # Black A1 with B1 in atari is a two-stone suicide: legal under Tromp-Taylor, not under Japanese rules.
    moves = ["b B1", "w A2", "b pass", "w B2", "b pass", "w C1", "b A1"]
    assert session(engine, "".join(f"play {m}\n" for m in moves)) == ["="] * len(moves)
    assert engine.game.state.captured[0].tolist() == [2, 0]
    assert session(engine, "kata-set-rules japanese\n") == ["? the position is illegal under these rules"]
    assert engine.game.rules.name() == "tromp-taylor" and len(engine.game.moves) == len(moves)
    assert session(engine, "undo\nkata-set-rules japanese\n") == ["=", "="]
    assert engine.game.rules.name() == "japanese" and len(engine.game.moves) == len(moves) - 1


# Black columns A-C (10 points of territory in A-B), white D (5 points in E); a lone black stone at
# E3 is dead in white's area.
WALL_MOVES = [m for r in range(1, 6) for m in (f"b C{r}", f"w D{r}")]


def test_final_score_counts_territory_and_prisoners_under_japanese_rules():
    for rules, expected in (("japanese", "= B+3.5"), ("chinese", "= B+4.5")):
        engine = make_engine(rules, size=5)
        out = session(engine, "komi 0.5\n" + "".join(f"play {m}\n" for m in WALL_MOVES + ["b E3"]) + "final_status_list dead\nfinal_score\n")
        assert out[-2] == "= E3"
        # Japanese: 10 - (5 + 1 prisoner) - 0.5; Chinese: 15 - 10 - 0.5.
        assert out[-1] == expected, rules


def test_final_score_counts_captures_made_during_the_game():
    engine = make_engine("japanese", size=5)
    # Black E3 is captured by white E2, E4 (and D3 already there): one prisoner for white.
    moves = WALL_MOVES + ["b E3", "w E2", "b pass", "w E4"]
    out = session(engine, "komi 0.5\n" + "".join(f"play {m}\n" for m in moves) + "final_score\n")
    # White's E column: E1, E3, E5 empty -> 3 points + 1 prisoner; black 10.
    assert out[-1] == "= B+5.5"


def test_handicap_bonus_in_final_score():
    engine = make_engine("chinese", size=9)
    out = session(engine, "komi 0\nfixed_handicap 4\nfinal_score\nkata-set-rules aga\nfinal_score\n")
    # Four black stones own the empty board by area (81); white gets N = 4, then N-1 = 3 (AGA).
    assert out[-3] == "= B+77" and out[-1] == "= B+78"


FINISHED_WITH_DAME = """
. . . X . O .
. . . X . O O
. . . X . O .
. . . X . O O
. . . X . O O
. . . X . O O
. . . X . O O
"""
FINISHED_NO_DAME = FINISHED_WITH_DAME.replace("X . O", "X O O")


def load(engine, text: str) -> None:
    n, black, white = ascii_board.parse(text)
    setup = [(B.BLACK, a) for a in black] + [(B.WHITE, a) for a in white]
    engine.game.load(setup, [], B.BLACK)


@pytest.mark.parametrize("position", [FINISHED_WITH_DAME, FINISHED_NO_DAME], ids=["dame-left", "no-dame"])
def test_japanese_bot_passes_instead_of_filling_dame_or_its_own_territory(position):
    # A real search (64 visits, an area-valued evaluator) on a finished-ish 7x7 board: under area
    # rules a dame is worth a point and the bot plays on; under Japanese rules only dame and its
    # own area are left, worth nothing or costing a point, so it passes. (White is not asked: an
    # area-valued evaluator likes a hopeless invasion of black's area, in any rules.)
    engine = make_engine("japanese", size=7, visits=64, evaluator=AreaScoreEvaluator(scale=10.0))
    session(engine, "boardsize 7\n")
    load(engine, position)
    assert session(engine, "genmove b\n") == ["= pass"]
    if position is FINISHED_WITH_DAME:
        area = make_engine("chinese", size=7, visits=64, evaluator=AreaScoreEvaluator(scale=10.0))
        session(area, "boardsize 7\n")
        load(area, position)
        assert session(area, "genmove b\n") != ["= pass"]


INVADER_IN_ATARI = """
. . . X O O .
. . . X O O O
. X . X O O .
X O . X O O O
. X . X O O O
. . . X O O O
. . . X O O O
"""


def test_japanese_bot_captures_an_invader_rather_than_pass():
    # White's B4 in black's area has one liberty (C4). Capturing is never taken for a move that
    # gains nothing, so the search's capture stands.
    engine = make_engine("japanese", size=7, visits=64, evaluator=AreaScoreEvaluator(scale=10.0))
    session(engine, "boardsize 7\n")
    load(engine, INVADER_IN_ATARI)
    assert session(engine, "genmove b\n") == ["= C4"]
