"""White's handicap bonus reaches the network as KataGo's self komi (the komi plane holds komi +
bonus) on every path that searches or encodes a game with handicap stones: GTP genmove, analysis
queries with initial stones, and the arena's players; the plane agrees with the rules' count."""

from __future__ import annotations

import io
import json

import numpy as np

from alphazero.analysis.query import Defaults
from alphazero.analysis.scheduler import AnalysisEngine
from alphazero.arena.players import GumbelNetworkPlayer, RawNetworkPlayer, SearchNetworkPlayer
from alphazero.config.search import SearchConfig
from alphazero.gtp.engine import GtpEngine
from alphazero.gtp.search_player import SearchPlayer
from alphazero.gtp.server import serve
from go_engine import board as B
from go_engine import features as F
from go_engine import scoring
from go_engine.history import BoardHistory
from go_engine.rules import fixed_handicap_actions, preset
from selfplay.evaluators import AreaScoreEvaluator, UniformEvaluator


class KomiRecorder:
    """An evaluator that notes, for every position it is asked about, what white receives by its
    komi plane (the plane times KOMI_SCALE, turned to white's view by the black-to-move plane)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.white_gets: list[float] = []
        self.sides: set[int] = set()

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        _, k = F.feature_layout(planes.shape[1])
        komi = planes[:, -1]  # [B, n, n]
        assert (komi == komi[:, :1, :1]).all()  # one value per position
        for i in range(len(planes)):
            black = bool(planes[i, 2 * k, 0, 0])
            self.sides.add(B.BLACK if black else B.WHITE)
            value = float(komi[i, 0, 0]) * F.KOMI_SCALE
            self.white_gets.append(round(-value if black else value, 4))
        return self.inner(planes, legal)

    def take(self) -> set[float]:
        """The distinct values seen since the last call (then forgotten)."""
        seen, self.white_gets, self.sides = set(self.white_gets), [], set()
        return seen


def session(engine: GtpEngine, text: str) -> list[str]:
    out = io.StringIO()
    serve(engine, io.StringIO(text), out, log=lambda text: None)
    return out.getvalue().split("\n\n")[:-1]


def count_gives_white(game: BoardHistory) -> float:
    """The count's komi + handicap bonus term (white's view) for the game's position."""
    c = scoring.count(game.state.board[0], game.size, game.rules, captured=tuple(game.state.captured[0]),
                      handicap=game.handicap())
    return c.komi + c.bonus


def test_gtp_genmove_searches_with_the_handicap_bonus_of_the_rules():
    recorder = KomiRecorder(UniformEvaluator())
    engine = GtpEngine(SearchPlayer(recorder, SearchConfig(), visits=16, history=8, seed=1), preset("chinese"),
                       size=9, log=lambda text: None)
    assert session(engine, "komi 0.5\nfixed_handicap 3\ngenmove w\n")[-1].startswith("= ")
    # The search's root (white to move) and its leaves (both sides) all see 0.5 + N = 3.5.
    sides = set(recorder.sides)
    assert recorder.take() == {3.5} and sides == {B.BLACK, B.WHITE}
    assert count_gives_white(engine.game) == 3.5
    for rules, colour, white_gets in (("aga", "b", 2.5), ("japanese", "w", 0.5)):  # N-1, then no bonus
        assert session(engine, f"kata-set-rules {rules}\ngenmove {colour}\n")[-1].startswith("= ")
        assert recorder.take() == {white_gets}, rules
        assert count_gives_white(engine.game) == white_gets
    # Without handicap stones: the komi alone, as before.
    session(engine, "kata-set-rules chinese\nclear_board\ngenmove b\n")
    assert recorder.take() == {0.5}


def test_analysis_query_with_black_initial_stones_searches_with_the_bonus():
    recorder = KomiRecorder(AreaScoreEvaluator(scale=4.0, with_aux=True))
    for rules, white_gets in (("chinese", 9.5), ("aga", 8.5), ("japanese", 7.5), ("tromp-taylor", 7.5)):
        results: list[dict] = []
        engine = AnalysisEngine(recorder, 2, Defaults(visits=8, max_visits=100, history=2, perspective="BLACK"),
                                results.append, rows=2)
        # Two black stones, then white's move: turn 0 has white to move, turn 1 black.
        engine.submit(json.dumps({"id": rules, "initialStones": [["B", "B2"], ["B", "D4"]], "moves": [["W", "C3"]],
                                  "analyzeTurns": [0, 1], "rules": rules, "komi": 7.5, "boardXSize": 5,
                                  "boardYSize": 5}))
        engine.close_input()
        engine.run()  # returns once both turns are answered
        assert sorted(r["turnNumber"] for r in results if r.get("isDuringSearch") is False) == [0, 1], results
        sides = set(recorder.sides)
        assert recorder.take() == {white_gets} and sides == {B.BLACK, B.WHITE}, rules


def test_arena_players_see_the_bonus_of_a_handicap_game():
    recorder = KomiRecorder(UniformEvaluator())
    n = 9
    game = BoardHistory(n, preset("aga").with_komi(0.5), history=2,
                        setup=[(B.BLACK, a) for a in fixed_handicap_actions(n, 3)], first_to_play=B.WHITE)
    gumbel = SearchConfig(gumbel=True, simulations=8, gumbel_considered=4)
    players = [RawNetworkPlayer("raw", recorder, history=2),
               GumbelNetworkPlayer("gumbel", recorder, gumbel, history=2),
               SearchNetworkPlayer("puct", SearchPlayer(recorder, SearchConfig(), visits=8, history=2, seed=1))]
    for player in players:
        player.new_game(game, seed=1)
        assert 0 <= player.genmove(game, B.WHITE) <= n * n, player.name
        assert recorder.take() == {0.5 + 2}, player.name  # N-1 for 3 stones
    assert count_gives_white(game) == 2.5


def test_handicap_stones_sent_as_black_moves_get_the_bonus_as_setup_stones_do():
    """Lizzie (and other GUIs) send handicap stones as ``play B`` commands: the engine counts black
    moves that open the game as handicap, as KataGo does, so the search and final_score agree with
    the same stones placed by set_free_handicap."""
    recorder = KomiRecorder(UniformEvaluator())
    engine = GtpEngine(SearchPlayer(recorder, SearchConfig(), visits=16, history=8, seed=1), preset("chinese"),
                       size=9, log=lambda text: None)
    as_moves = session(engine, "komi 0.5\nplay b C3\nplay b G7\nplay b G3\ngenmove w\nfinal_score\n")
    assert recorder.take() == {3.5} and engine.game.handicap() == 3
    by_setup = session(engine, "clear_board\nset_free_handicap C3 G7 G3\ngenmove w\nfinal_score\n")
    assert recorder.take() == {3.5}
    assert as_moves[-1] == by_setup[-1] and as_moves[-1].startswith("= ")
    # An even game (black's one stone, then white's move) keeps the komi alone.
    session(engine, "clear_board\nplay b C3\nplay w G7\ngenmove b\n")
    assert recorder.take() == {0.5} and engine.game.handicap() == 0


def test_analysis_query_with_black_opening_moves_searches_with_the_bonus():
    recorder = KomiRecorder(AreaScoreEvaluator(scale=4.0, with_aux=True))
    results: list[dict] = []
    engine = AnalysisEngine(recorder, 2, Defaults(visits=8, max_visits=100, history=2, perspective="BLACK"),
                            results.append, rows=2)
    engine.submit(json.dumps({"id": "q", "moves": [["B", "B2"], ["B", "D4"], ["W", "C3"]], "analyzeTurns": [2, 3],
                              "rules": "chinese", "komi": 7.5, "boardXSize": 5, "boardYSize": 5}))
    engine.close_input()
    engine.run()
    assert sorted(r["turnNumber"] for r in results if r.get("isDuringSearch") is False) == [2, 3], results
    assert recorder.take() == {9.5}
