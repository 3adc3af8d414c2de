"""The JSON analysis engine in-process: golden results from a deterministic evaluator, perspective
flips on a position with known values, every malformed-query class answered while a long query
keeps running, terminate (queued and mid-search), many queries in flight, turns batched."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from alphazero.analysis.query import Defaults
from alphazero.analysis.scheduler import AnalysisEngine
from selfplay.evaluators import AreaScoreEvaluator

GOLDEN = Path(__file__).parent / "golden" / "analysis_result.json"
REGEN = os.environ.get("ALPHAZERO_REGEN_GOLDEN") == "1"
N = 5


class Harness:
    """An engine searching in a thread; ``send`` a query object or raw line, ``get`` results."""

    def __init__(self, rows: int = 8, visits: int = 16, max_visits: int = 4000, evaluator=None) -> None:
        self.out: "queue.Queue[dict]" = queue.Queue()
        self.log: list[dict] = []  # everything the engine wrote, in order
        defaults = Defaults(visits=visits, max_visits=max_visits, history=2, perspective="BLACK")
        self.engine = AnalysisEngine(evaluator or AreaScoreEvaluator(scale=4.0, with_aux=True), 2, defaults,
                                     self._emit, rows=rows)
        self.thread = threading.Thread(target=self.engine.run, daemon=True)
        self.thread.start()

    def _emit(self, obj: dict) -> None:
        obj = json.loads(json.dumps(obj))  # what a client would read
        self.log.append(obj)
        self.out.put(obj)

    def finals(self, qid: str) -> list[dict]:
        return [r for r in self.log if r.get("id") == qid and r.get("isDuringSearch") is False]

    def send(self, item) -> None:
        self.engine.submit(item if isinstance(item, str) else json.dumps(item))

    # Generous: the first search compiles the numba kernels (minutes on a cold cache and a loaded
    # machine); the timeouts only turn a hung engine into a failure.
    def get(self, timeout: float = 600.0) -> dict:
        return self.out.get(timeout=timeout)

    def until(self, pred, timeout: float = 600.0) -> list[dict]:
        """Everything received up to and including the first line matching ``pred``."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            seen.append(self.out.get(timeout=max(0.01, deadline - time.monotonic())))
            if pred(seen[-1]):
                return seen

    def close(self) -> list[dict]:
        self.engine.close_input()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()
        rest = []
        while not self.out.empty():
            rest.append(self.out.get())
        return rest


def query(qid: str, moves=(), **fields) -> dict:
    q = {"id": qid, "moves": [list(m) for m in moves], "rules": "chinese", "komi": 7.5, "boardXSize": N, "boardYSize": N}
    q.update(fields)
    return q


def final(qid: str):
    return lambda r: r.get("id") == qid and r.get("isDuringSearch") is False


@pytest.fixture
def harness():
    h = Harness()
    yield h
    h.close()


# ---- results --------------------------------------------------------------------------------


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 4) + 0.0
    if isinstance(obj, list):
        return [_rounded(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


def test_golden_result(harness):
    harness.send(query("g", [("B", "C3"), ("W", "B2"), ("B", "D4")], maxVisits=24, includeOwnership=True,
                       includeOwnershipStdev=True, includeMovesOwnership=True, includePolicy=True, includePVVisits=True,
                       analysisPVLen=3))
    result = _rounded(harness.until(final("g"))[-1])
    if REGEN or not GOLDEN.exists():
        GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden analysis result regenerated")
    assert result == json.loads(GOLDEN.read_text())


def test_result_shape(harness):
    harness.send(query("s", [("B", "C3"), ("W", "C2")], maxVisits=20, includeOwnership=True, includePolicy=True))
    r = harness.until(final("s"))[-1]
    assert r["turnNumber"] == 2 and r["rootInfo"]["currentPlayer"] == "B"
    root = r["rootInfo"]
    assert root["visits"] == 20
    for key in ("winrate", "scoreLead", "scoreSelfplay", "scoreStdev", "utility", "rawWinrate", "rawLead"):
        assert isinstance(root[key], float)
    assert len(root["thisHash"]) == 32 and len(root["symHash"]) == 32
    infos = r["moveInfos"]
    assert [m["order"] for m in infos] == list(range(len(infos)))
    assert sum(m["visits"] for m in infos) == 19  # the root's own evaluation is the 20th visit
    for m in infos:
        assert m["pv"][0] == m["move"] and 0 <= m["winrate"] <= 1 and m["scoreStdev"] >= 0
    assert len(r["ownership"]) == N * N and all(-1 <= v <= 1 for v in r["ownership"])
    policy = r["policy"]
    assert len(policy) == N * N + 1
    c3, c2 = 12, 17  # row-major from the top-left: C3 is row 2 (from the top) col 2; C2 row 3
    assert policy[c3] == -1 and policy[c2] == -1
    assert sum(p for p in policy if p >= 0) == pytest.approx(1.0, abs=1e-5)


def test_analyze_turns_and_priorities(harness):
    moves = [("B", "C3"), ("W", "C2"), ("B", "B2"), ("W", "D3")]
    harness.send(query("t", moves, analyzeTurns=[0, 2, 4, 1], maxVisits=8, priorities=[1, 2, 3, 4]))
    results = []
    while len([r for r in results if r.get("isDuringSearch") is False]) < 4:
        results.append(harness.get())
    finals = {r["turnNumber"]: r for r in results if r.get("isDuringSearch") is False}
    assert sorted(finals) == [0, 1, 2, 4]
    assert {t: finals[t]["rootInfo"]["currentPlayer"] for t in finals} == {0: "B", 1: "W", 2: "B", 4: "B"}


def test_perspective_flips():
    # Komi -20.5 on 5x5 after B C3: Black leads by ~20 whatever happens next; C3 is Black's.
    h = Harness()
    try:
        moves = [("B", "C3")]
        for name in ("BLACK", "WHITE", "SIDETOMOVE"):
            h.send(query(name, moves, komi=-20.5, maxVisits=24, includeOwnership=True, includeMovesOwnership=True,
                         overrideSettings={"reportAnalysisWinratesAs": name}))
        got = {}
        while len(got) < 3:
            r = h.get()
            if r.get("isDuringSearch") is False:
                got[r["id"]] = r
        black, white, side = got["BLACK"], got["WHITE"], got["SIDETOMOVE"]  # white to move
        assert black["rootInfo"]["scoreLead"] > 10 and white["rootInfo"]["scoreLead"] < -10
        assert black["rootInfo"]["winrate"] == pytest.approx(1 - white["rootInfo"]["winrate"])
        assert black["rootInfo"]["scoreLead"] == pytest.approx(-white["rootInfo"]["scoreLead"])
        assert side["rootInfo"] == white["rootInfo"]
        assert black["ownership"][12] == pytest.approx(1.0) and white["ownership"][12] == pytest.approx(-1.0)
        for mb, mw in zip(black["moveInfos"], white["moveInfos"]):
            assert mb["move"] == mw["move"]
            assert mb["winrate"] == pytest.approx(1 - mw["winrate"]) and mb["scoreLead"] == pytest.approx(-mw["scoreLead"])
            assert mb["lcb"] == pytest.approx(1 - mw["lcb"]) and mb["prior"] == mw["prior"]
            assert mb["scoreStdev"] == mw["scoreStdev"]
            assert mb["ownership"][12] == pytest.approx(1.0) and mw["ownership"][12] == pytest.approx(-1.0)
        # Black to move (SIDETOMOVE = BLACK there).
        h.send(query("b2m", [("B", "C3"), ("W", "B2")], komi=-20.5, maxVisits=16,
                     overrideSettings={"reportAnalysisWinratesAs": "SIDETOMOVE"}))
        r = h.until(final("b2m"))[-1]
        assert r["rootInfo"]["scoreLead"] > 10
    finally:
        h.close()


# ---- errors and warnings while a long query runs --------------------------------------------------

MALFORMED = [
    ("{not json", None, "error"),
    ("[1, 2]", None, "error"),
    (json.dumps({"moves": [], "rules": "chinese", "boardXSize": 5, "boardYSize": 5}), None, "error"),
    (json.dumps({"id": 5, "moves": []}), None, "error"),
    (query("e1", boardXSize=1, boardYSize=1), "boardXSize", "error"),
    (query("e2", boardXSize=25, boardYSize=25), "boardXSize", "error"),
    (query("e3", boardYSize=7), "boardYSize", "error"),
    (query("e4", [("B", "C3"), ("W", "C3")]), "moves", "error"),
    (query("e5", [("B", "Z9")]), "moves", "error"),
    (query("e6", [("X", "C3")]), "moves", "error"),
    (query("e7", komi=7.3), "komi", "error"),
    (query("e8", komi=200), "komi", "error"),
    (query("e9", analyzeTurns=[2]), "analyzeTurns", "error"),
    (query("e10", includeOwnership="yes"), "includeOwnership", "error"),
    (query("e11", rules="martian"), "rules", "error"),
    (query("e12", maxVisits=0), "maxVisits", "error"),
    (query("e13", priority=1, priorities=[1]), "priorities", "error"),
    (query("e14", allowMoves=[{"player": "B", "moves": ["C3"], "untilDepth": 1}] * 2), "allowMoves", "error"),
    (query("e15", allowMoves=[{"player": "B", "moves": ["C3"], "untilDepth": 1}],
           avoidMoves=[{"player": "B", "moves": ["C3"], "untilDepth": 1}]), "allowMoves", "error"),
    (query("e16", overrideSettings={"reportAnalysisWinratesAs": "PURPLE"}), "overrideSettings", "error"),
    (query("e17", initialStones=[["B", "pass"]]), "initialStones", "error"),
    (query("e20", overrideSettings={"wideRootNoise": 6}), "overrideSettings", "error"),
    (query("e21", avoidMoves=[{"player": "W", "moves": ["C3"], "untilDepth": 0}]), "avoidMoves", "error"),
    (query("e18", reportDuringSearchEvery=0), "reportDuringSearchEvery", "error"),
    ({k: v for k, v in query("e19").items() if k != "rules"}, "rules", "error"),
    (json.dumps({"id": "a1", "action": "bogus"}), None, "error"),
    (json.dumps({"id": "a2", "action": "terminate"}), "terminateId", "error"),
    (query("w1", rules="aga-button", maxVisits=2), "rules", "warning"),  # played as chinese, named
    (query("w2", overrideSettings={"playoutDoublingAdvantage": 1.0}, maxVisits=2), "overrideSettings", "warning"),
    (query("w3", colour="blue", maxVisits=2), "colour", "warning"),
    (query("w4", maxVisits=10**6, overrideSettings={"maxTime": 0.2}), "maxVisits", "warning"),
]


def test_every_malformed_query_class_is_answered_while_a_long_query_runs():
    h = Harness(rows=2, max_visits=100_000)
    try:
        h.send(query("long", [("B", "C3")], maxVisits=100_000, reportDuringSearchEvery=0.05))
        h.until(lambda r: r.get("id") == "long" and r.get("isDuringSearch") is True)
        for line, fieldname, kind in MALFORMED:
            h.send(line)
            reply = h.until(lambda r: r.get("id") != "long" and ("error" in r or "warning" in r))[-1]
            assert kind in reply, (line, reply)
            if fieldname is None:
                assert set(reply) == {"error"}, (line, reply)
            else:
                assert reply["field"] == fieldname, (line, reply)
                assert reply["id"] == (line["id"] if isinstance(line, dict) else json.loads(line)["id"])
        # An illegal move names its index and coordinate.
        h.send(query("idx", [("B", "C3"), ("W", "D4"), ("B", "C3")]))
        reply = h.until(lambda r: r.get("id") == "idx" and "error" in r)[-1]
        assert reply["error"] == "Illegal move 2: C3"
        # The long query is still running: more reports arrive, and terminate ends it with one final line.
        h.until(lambda r: r.get("id") == "long" and r.get("isDuringSearch") is True)
        h.send({"id": "stop", "action": "terminate", "terminateId": "long"})
        seen = h.until(final("long"))
        assert any(r == {"id": "stop", "action": "terminate", "terminateId": "long"} for r in seen)
        last = seen[-1]
        assert 0 < last["rootInfo"]["visits"] < 100_000 and "noResults" not in last
    finally:
        h.close()
    # The warned queries ran, and every query that ran ended exactly once; the rejected ones never ran.
    for qid in ("long", "w1", "w2", "w3", "w4"):
        assert len(h.finals(qid)) == 1, qid
    assert not [r for r in h.log if "moveInfos" in r and r["id"].startswith(("e", "a", "idx"))]


def test_terminate_a_queued_turn_gives_no_results_and_actions_echo():
    h = Harness(rows=1, max_visits=100_000)
    try:
        h.send(query("busy", maxVisits=100_000, reportDuringSearchEvery=0.05))
        h.until(lambda r: r.get("id") == "busy")
        h.send(query("queued", [("B", "C3")], analyzeTurns=[0, 1]))
        h.send({"id": "v", "action": "query_version"})
        v = h.until(lambda r: r.get("id") == "v")[-1]
        assert v["action"] == "query_version" and v["version"].count(".") == 2 and "git_hash" in v
        h.send({"id": "c", "action": "clear_cache"})
        assert h.until(lambda r: r.get("id") == "c")[-1] == {"id": "c", "action": "clear_cache"}
        h.send({"id": "t1", "action": "terminate", "terminateId": "queued", "turnNumbers": [1]})
        seen = h.until(lambda r: r.get("id") == "queued")
        assert seen[-1] == {"id": "queued", "turnNumber": 1, "isDuringSearch": False, "noResults": True}
        h.send({"id": "t2", "action": "terminate_all"})
        seen = h.until(final("busy"))
        assert seen[-1]["rootInfo"]["visits"] > 0
    finally:
        h.close()
    # terminate_all also ended the queued turn 0: every turn has exactly one final line.
    assert h.finals("queued") == [{"id": "queued", "turnNumber": 1, "isDuringSearch": False, "noResults": True},
                                  {"id": "queued", "turnNumber": 0, "isDuringSearch": False, "noResults": True}]
    assert len(h.finals("busy")) == 1


def test_hundred_queries_in_flight():
    h = Harness(rows=16, visits=6)
    rng = np.random.default_rng(0)
    cols = "ABCDE"
    try:
        for i in range(100):
            # Black on rows 4-5, White on rows 1-2: no stone ever touches the other colour, so all legal.
            k = int(rng.integers(0, 6))
            black = rng.choice(10, size=(k + 1) // 2, replace=False)
            white = rng.choice(10, size=k // 2, replace=False)
            moves = []
            for j in range(k):
                p = black[j // 2] if j % 2 == 0 else white[j // 2]
                moves.append(("B" if j % 2 == 0 else "W", f"{cols[p % N]}{(4 if j % 2 == 0 else 1) + p // N}"))
            h.send(query(f"q{i}", moves, priority=int(rng.integers(-3, 3))))
    finally:
        h.close()
    finals = [r for r in h.log if r.get("isDuringSearch") is False]
    assert sorted(r["id"] for r in finals) == sorted(f"q{i}" for i in range(100))
    assert all(r["rootInfo"]["visits"] == 6 for r in finals)


def _finals(harness, ids) -> dict:
    got = {}
    while len(got) < len(ids):
        r = harness.get()
        if r.get("isDuringSearch") is False and r.get("id") in ids:
            got[r["id"]] = r
    return got


def test_avoid_and_allow_moves_hold_down_to_until_depth(harness):
    # White to move after C3. avoid: white never plays B2/D4/pass at depths 0 and 2, black never
    # plays B3 at depth 1; allow: white plays only B2 or D4 at depths 0 and 2 (none of its own
    # moves at depth 4 and beyond are restricted).
    harness.send(query("allow", [("B", "C3")], maxVisits=200, analysisPVLen=6,
                       allowMoves=[{"player": "W", "moves": ["B2", "D4", "B4", "D2"], "untilDepth": 3}]))
    harness.send(query("avoid", [("B", "C3")], maxVisits=200, analysisPVLen=6,
                       avoidMoves=[{"player": "W", "moves": ["B2", "D4", "pass"], "untilDepth": 3},
                                   {"player": "B", "moves": ["B3"], "untilDepth": 2}]))
    harness.send(query("free", [("B", "C3")], maxVisits=200, analysisPVLen=6))
    got = _finals(harness, {"allow", "avoid", "free"})
    allowed = {"B2", "D4", "B4", "D2"}
    assert {m["move"] for m in got["allow"]["moveInfos"]} <= allowed
    assert not {m["move"] for m in got["avoid"]["moveInfos"]} & {"B2", "D4", "pass"}
    deep = 0
    for m in got["allow"]["moveInfos"]:
        assert m["pv"][0] == m["move"]
        if len(m["pv"]) > 2:
            deep += 1
            assert m["pv"][2] in allowed, m["pv"]
    for m in got["avoid"]["moveInfos"]:
        pv = m["pv"]
        if len(pv) > 1:
            assert pv[1] != "B3", pv
        if len(pv) > 2:
            deep += 1
            assert pv[2] not in {"B2", "D4", "pass"}, pv
    assert deep >= 5, "the PVs must reach the restricted depths for this test to mean anything"
    # Unrestricted, the same search does play those moves there.
    free = got["free"]["moveInfos"]
    assert {m["move"] for m in free} & {"B2", "D4"}
    assert any(len(m["pv"]) > 2 and m["pv"][2] not in allowed for m in free)


def test_wide_root_noise_reaches_the_search_and_zero_is_no_noise():
    h = Harness(evaluator=AreaScoreEvaluator(scale=0.5, with_aux=True))
    try:
        position = [("B", "C3"), ("W", "B2"), ("B", "D4"), ("W", "D2")]
        h.send(query("plain", position, maxVisits=150))
        h.send(query("zero", position, maxVisits=150, overrideSettings={"wideRootNoise": 0.0}))
        h.send(query("wide", position, maxVisits=150, overrideSettings={"wideRootNoise": 1.0}))
        got = _finals(h, {"plain", "zero", "wide"})
    finally:
        h.close()
    strip = lambda r: [(m["move"], m["visits"], m["pv"]) for m in r["moveInfos"]]  # noqa: E731
    assert strip(got["zero"]) == strip(got["plain"])
    assert not any("warning" in r for r in h.log if r.get("id") in ("zero", "wide"))
    # The override reaches the search (its visits differ); that the noise spreads a peaked root is
    # tests/selfplay/test_search_options.py's: this uniform-prior root is as wide as it gets already.
    assert strip(got["wide"]) != strip(got["plain"])
    assert got["wide"]["rootInfo"]["visits"] == got["plain"]["rootInfo"]["visits"] == 150
