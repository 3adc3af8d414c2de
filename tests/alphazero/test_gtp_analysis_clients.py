"""GTP analysis as the GUIs read it: per-move scores and ownership from the search, Lizzie 0.7.4's
command sequence and parser rules, Sabaki's ``analyze`` parser rules (facts file, section 3)."""

from __future__ import annotations

import io
import os
import re
import threading
import time

import numpy as np
import pytest

from alphazero.config.search import SearchConfig
from alphazero.gtp import analysis
from alphazero.gtp.commands.analyze import analyze_args
from alphazero.gtp.engine import GtpEngine
from alphazero.gtp.search_player import SearchPlayer
from alphazero.gtp.server import serve
from go_engine import coords
from go_engine import features as F
from go_engine.rules import preset
from selfplay.evaluators import AreaScoreEvaluator
from selfplay.tree import ILLEGAL, ROOT

N = 5


class PlacedScore:
    """The area stand-in, with a small deterministic score term for where the stones are (so
    different moves lead to different scores even where the area count ties)."""

    def __init__(self) -> None:
        self.inner = AreaScoreEvaluator(scale=4.0, with_aux=True)

    def __call__(self, planes, legal):
        logits, value, aux = self.inner(planes, legal)
        n2 = planes.shape[2] * planes.shape[3]
        k = F.history_from_planes(planes.shape[1])
        place = (planes[:, 0] - planes[:, k]).reshape(len(planes), n2) @ (np.arange(n2) / (10.0 * n2))
        return logits, value, {**aux, "score": (aux["score"] + place).astype(np.float32)}


def make_engine(visits: int = 64) -> GtpEngine:
    player = SearchPlayer(PlacedScore(), SearchConfig(), visits=visits, history=8, seed=3,
                          has_ownership=True)
    return GtpEngine(player, preset("chinese"), size=N, log=lambda text: None)


def timed_session(engine: GtpEngine, script: list[tuple[float, str]]) -> str:
    """The real server loop on a pipe: each line is written after its delay (seconds), as a GUI
    does; returns everything the engine wrote."""
    r, w = os.pipe()
    reader, writer = os.fdopen(r, "r"), os.fdopen(w, "w")

    def feed() -> None:
        for delay, line in script:
            time.sleep(delay)
            writer.write(line + "\n")
            writer.flush()
        writer.close()

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    out = io.StringIO()
    serve(engine, reader, out, log=lambda text: None)
    thread.join()
    return out.getvalue()


# ---- Lizzie 0.7.4 ---------------------------------------------------------------------------------


def lizzie_move_data(block: str, kata: bool) -> dict:
    """MoveData.fromInfo / fromInfoKatago: single-space tokens as key/value pairs up to ``pv``;
    lz winrate/prior/lcb through Integer.parseInt (a float raises), kata through parseDouble."""
    data = block.strip().split(" ")
    result: dict = {}
    i = 0
    while i < len(data):
        key = data[i]
        if key == "pv":
            result["variation"] = data[i + 1:]
            break
        i += 1
        value = data[i]
        if key == "move":
            result["coordinate"] = value
        elif key == "visits":
            result["playouts"] = int(value)
        elif key in ("winrate", "prior", "lcb"):
            result[key] = float(value) * 100 if kata else int(value) / 100.0  # int() raises on "0.5", as Java does
        elif kata and key in ("scoreMean", "scoreStdev"):
            result[key] = float(value)
        i += 1
    return result


def lizzie_read(text: str, kata: bool | None) -> tuple[dict[int, str], list[list[dict]]]:
    """Leelaz.parseLine over the engine's output: '='/'?' lines must carry a numeric id
    (Integer.parseInt(token.substring(1))); info lines are split into moves, ownership cut off."""
    responses: dict[int, str] = {}
    analyses: list[list[dict]] = []
    for line in text.split("\n"):
        if line.startswith(("=", "?")):
            first = line.split(" ")[0]
            responses[int(first[1:])] = line[len(first):].strip()
        elif line.startswith("info") and kata is not None:
            # parseInfo(line.substring(5)): the text after "info " split on " info ".
            body = line.split(" ownership ")[0][5:]
            analyses.append([lizzie_move_data(part, kata) for part in body.split(" info ") if part.strip()])
    return responses, analyses


def test_lizzie_command_sequence_and_parser():
    engine = make_engine()
    script = [(0, "1 name"), (0, "2 version"), (0, "3 boardsize 5"), (0, "4 komi 7.5"),
              (0, "5 lz-analyze 10"), (0.6, "6 play B C3"), (0, "7 lz-analyze 10"), (0.6, "8 name"),
              (0, "9 kata-analyze 10 ownership true"), (0.6, "10 name"), (0, "11 quit")]
    text = timed_session(engine, script)
    responses, _ = lizzie_read(text, kata=None)
    assert sorted(responses) == list(range(1, 12)), text[:500]
    assert responses[1].split()[0] == "alphazero-go"
    major, minor = responses[2].split(".")[:2]  # Lizzie reads x.y
    assert major.isdigit() and minor.isdigit()
    lz_part = text.split("=9")[0]
    _, lz = lizzie_read(lz_part, kata=False)
    assert lz, "lz-analyze should stream at least one info line in 0.6 s"
    for moves in lz:
        for m in moves:
            assert set(m) >= {"coordinate", "playouts", "winrate", "prior", "lcb", "variation"}
            assert 0 <= m["winrate"] <= 100 and m["variation"][0] == m["coordinate"]
    _, kata = lizzie_read(text.split("=9")[1], kata=True)
    assert kata
    for m in kata[-1]:
        assert 0 <= m["winrate"] <= 100 and "scoreMean" in m
    own_lines = [line for line in text.split("=9")[1].split("\n") if line.startswith("info")]
    values = [float(x) for x in own_lines[-1].split(" ownership ")[1].split()]
    assert len(values) == N * N and all(-1 <= v <= 1 for v in values)
    assert engine.game.moves == [(1, 12)]  # C3 was played between the analyses


# ---- Sabaki ------------------------------------------------------------------------------------------


VERTEX = re.compile(r"^(pass|[A-Za-z]\d+)$")


def sabaki_parse(line: str, sign: int) -> list[dict]:
    """Sabaki v0.52.2 enginesyncer: split on 'info', key/value pairs, the PV a run of vertices at
    the end of each block (a block whose tail is not vertices is dropped), pass moves ignored,
    winrate = x*100 if it has a '.' else x/100, signed by the analysed colour."""
    variations = []
    for block in line.split("info")[1:]:
        tokens = block.strip().split()
        if "pv" not in tokens:
            continue
        k = tokens.index("pv")
        pv = tokens[k + 1:]
        if not pv or not all(VERTEX.match(v) for v in pv):
            continue
        fields = dict(zip(tokens[:k:2], tokens[1:k:2]))
        if not {"move", "visits", "winrate"} <= set(fields) or fields["move"] == "pass":
            continue
        w = fields["winrate"]
        winrate = float(w) * 100 if "." in w else float(w) / 100
        score = float(fields["scoreLead"]) * sign if "scoreLead" in fields else None
        if "pass" in pv:
            pv = pv[:pv.index("pass")]
        variations.append({"vertex": fields["move"], "visits": int(fields["visits"]), "winrate": winrate,
                           "scoreLead": score, "moves": pv})
    return variations


def test_sabaki_analyze_parses_with_decimal_points():
    engine = make_engine()
    script = [(0, "name"), (0, "version"), (0, "protocol_version"), (0, "list_commands"), (0, "boardsize 5"),
              (0, "komi -20.5"), (0, "play B C3"), (0, "analyze W 50"), (1.2, "protocol_version"), (0, "quit")]
    text = timed_session(engine, script)
    commands = text.split("\n\n")[3][2:].split("\n")
    # Sabaki takes the first of analyze, kata-analyze, lz-analyze that list_commands names.
    assert [c for c in ("analyze", "kata-analyze", "lz-analyze") if c in commands][0] == "analyze"
    infos = [line for line in text.split("\n") if line.startswith("info ")]
    assert infos, "analyze should have streamed at least one line in 1.2 s"
    for line in infos:
        for token in re.findall(r"(?:winrate|prior|lcb|utility|scoreLead|scoreMean|scoreStdev) (\S+)", line):
            assert "." in token, f"{token!r} has no decimal point: {line[:200]}"
    variations = sabaki_parse(infos[-1], sign=-1)
    assert variations, infos[-1][:300]
    for v in variations:
        assert 0 <= v["winrate"] <= 100 and v["visits"] > 0 and v["scoreLead"] is not None
    # Komi -20.5: White is far behind whatever it plays, so its lead is negative, and Sabaki's
    # signed value (colour W gives -1) is positive, i.e. Black's lead.
    assert variations[0]["scoreLead"] > 0


def test_genmove_analyze_ends_with_play_and_keeps_points():
    text = timed_session(make_engine(visits=24), [(0, "genmove_analyze B 10"), (0, "quit")])
    lines = text.split("\n")
    assert lines[0] == "=" and any(line.startswith("play ") for line in lines)
    info = [line for line in lines if line.startswith("info ")][-1]
    assert "." in info.split(" winrate ")[1].split()[0]


# ---- kata-analyze values ------------------------------------------------------------------------------


def test_kata_analyze_reports_per_move_scores_and_tree_ownership():
    engine = make_engine(visits=80)
    text = timed_session(engine, [(0, "komi -20.5"), (0, "play B C3"),
                                  (0, "kata-analyze W 20 ownership true ownershipStdev true movesOwnership true rootInfo true pvVisits true"),
                                  (1.0, ""), (0, "quit")])
    info = [line for line in text.split("\n") if line.startswith("info ")][-1]
    blocks = re.split(r" (?=info )", info.split(" rootInfo ")[0])
    leads = []
    for block in blocks:
        tokens = block.split()
        fields = dict(zip(tokens[1::2], tokens[2::2]))
        leads.append(float(fields["scoreLead"]))
        assert float(fields["scoreStdev"]) >= 0
        mo = block.split(" movesOwnership ")[1].split()
        assert len(mo) == N * N
        assert "pvVisits" in block
    assert len(set(leads)) > 1, "every move should have its own score, not the root's"
    root = info.split(" rootInfo ")[1].split(" ownership ")[0].split()
    root_fields = dict(zip(root[::2], root[1::2]))
    assert {"visits", "winrate", "scoreLead", "scoreStdev", "utility"} <= set(root_fields)
    assert float(root_fields["scoreLead"]) < -10  # white to move, ~20 points behind (komi -20.5)
    own = [float(x) for x in info.split(" ownership ")[1].split(" ownershipStdev ")[0].split()]
    stdev = [float(x) for x in info.split(" ownershipStdev ")[1].split()]
    assert len(own) == len(stdev) == N * N
    assert own[12] == pytest.approx(-1.0)  # Black's C3 from White's (side to move's) view
    assert all(0 <= s <= 1 for s in stdev)


def test_analyze_arguments_are_checked():
    engine = make_engine()
    out = timed_session(engine, [(0, "1 kata-analyze 10 ownership maybe"), (0, "2 lz-analyze 10 ownership true"),
                                 (0, "3 kata-analyze 10 avoid b C3"), (0, "4 kata-analyze 10 allow b C3 1 allow w C2 1"),
                                 (0, "5 kata-analyze 10 bogus 1")])
    for i in range(1, 6):
        assert f"?{i} Could not parse analyze arguments" in out, out


def test_format_float_matches_cpp():
    assert analysis.format_float(1.0) == "1" and analysis.format_float(1.0, True) == "1.00000"
    assert analysis.format_float(0.123456789) == "0.123457"
    assert analysis.format_float(-0.0, True) == "0.00000"
    assert "." in analysis.format_float(12.0, True)
    assert np.isclose(float(analysis.format_float(-3.25)), -3.25)


def _infos(text: str) -> list[dict]:
    """The last info line's candidates of a kata-analyze stream: move, and its pv as a list."""
    line = [ln for ln in text.split("\n") if ln.startswith("info ")][-1]
    out = []
    for chunk in line.split("info ")[1:]:
        fields = chunk.split()
        pv_end = next((i for i in range(fields.index("pv") + 1, len(fields)) if fields[i] in ("pvVisits", "ownership")), len(fields))
        out.append({"move": fields[fields.index("move") + 1], "pv": fields[fields.index("pv") + 1:pv_end]})
    return out


def white_replies_searchable(engine: GtpEngine, moves) -> int:
    """How many of the kept tree's expanded depth-1 nodes (white to move) have any of ``moves`` as a
    child the search may enter."""
    t = engine.player._mcts.tree
    actions = [coords.gtp_to_action(m, N) for m in moves]
    count = 0
    for child in t.children[0, ROOT]:
        if child >= 0 and t.expanded[0, child]:
            count += any(t.children[0, child, a] != ILLEGAL for a in actions)
    return count


def test_each_kata_analyze_output_key_adds_its_own_section_only():
    # The keys are parsed into the options shared with the JSON engine (``OutputOptions``) and
    # ``rootInfo``; each must switch on its own part of the line and nothing else.
    own = np.linspace(-1.0, 1.0, N * N).astype(np.float32)
    cand = analysis.Candidate(action=12, visits=10, winrate=0.5, prior=0.2, lcb=0.4, score_lead=1.0, pv=(12, 13),
                              pv_visits=(10, 4), ownership=own, ownership_stdev=np.full(N * N, 0.25, np.float32))
    report = analysis.SearchReport((cand,), visits=11, winrate=0.5, score_lead=1.0, ownership=own,
                                   ownership_stdev=np.full(N * N, 0.5, np.float32))
    sections = {"ownership": " ownership ", "ownershipStdev": " ownershipStdev ", "movesOwnership": " movesOwnership ",
                "movesOwnershipStdev": " movesOwnershipStdev ", "pvVisits": " pvVisits ", "pvEdgeVisits": " pvVisits ",
                "rootInfo": " rootInfo "}

    def shown(args: list[str]) -> list[str]:
        _, _, options, _ = analyze_args(args, kata=True, n=N)
        line = " " + analysis.kata_line(report, N, options)
        return sorted(s for s in set(sections.values()) if s in line)

    assert shown([]) == []
    for key, section in sections.items():
        assert shown([key, "true"]) == [section], key
        assert shown([key, "false"]) == [], key


def test_kata_analyze_avoid_and_allow_hold_down_to_until_depth():
    # Black to move on an empty 5x5. avoid: black never plays C3/pass at the root (depth 0) nor at
    # depth 2; white never plays B2/D4 at depth 1. allow: black's root move only B2 or D2, and
    # below the root everything is free again. Searched on a visit budget (not the stream's clock),
    # so the tree is the same on a loaded machine.
    engine = make_engine(visits=600)
    game, n = engine.game, N

    def search(args: str):
        _, _, _, restriction = analyze_args(args.split(), kata=True, n=n)
        until = restriction.for_root(game.to_play) if restriction is not None else None
        report = engine.player.think(game, None, restriction=until)
        return [{"move": coords.action_to_gtp(c.action, n), "pv": [coords.action_to_gtp(a, n) for a in c.pv]}
                for c in report.candidates]

    got = search("b 20 avoid b C3,pass 3 avoid w B2,D4 2")
    assert len(got) >= 5, got
    for cand in got:
        assert cand["move"] not in ("C3", "pass"), cand
        if len(cand["pv"]) >= 2:
            assert cand["pv"][1] not in ("B2", "D4"), cand
        if len(cand["pv"]) >= 3:
            assert cand["pv"][2] not in ("C3", "pass"), cand
    assert any(len(c["pv"]) >= 3 for c in got), got
    assert white_replies_searchable(engine, ("B2", "D4")) == 0
    # The unrestricted search of the same position does search C3, and white's B2/D4 below the
    # root (so the bans did something): a fresh tree, not the restricted one kept.
    free = search("b 20")
    assert "C3" in {c["move"] for c in free}, free
    assert white_replies_searchable(engine, ("B2", "D4")) > 0
    allowed = search("b 20 allow b B2,D2 1")
    assert {c["move"] for c in allowed} == {"B2", "D2"}, allowed
    assert any(len(c["pv"]) >= 2 for c in allowed)  # white's replies below the root are unrestricted


def test_kata_analyze_stream_keeps_to_avoid():
    engine = make_engine(visits=10_000)
    out = timed_session(engine, [(0, "1 kata-analyze b 20 avoid b C3,B2 1"), (0.5, "2 name")])
    got = _infos(out)
    assert got and not {c["move"] for c in got} & {"C3", "B2"}, got


def test_kata_genmove_analyze_plays_an_allowed_move():
    engine = make_engine(visits=64)
    out = timed_session(engine, [(0, "1 kata-genmove_analyze b 10 allow b A1,E5 1")])
    play = [ln for ln in out.split("\n") if ln.startswith("play ")]
    assert play in (["play A1"], ["play E5"]), out
    assert {c["move"] for c in _infos(out)} <= {"A1", "E5"}


def test_kata_analyze_bad_vertex_in_avoid_changes_nothing():
    engine = make_engine()
    out = timed_session(engine, [(0, "1 kata-analyze b 10 avoid b Z9 1"), (0, "2 kata-analyze b 10 avoid b C3 0")])
    assert "?1 Could not parse analyze arguments: bad vertex in avoid" in out, out
    assert "?2 untilDepth out of range" in out or "?2 Could not parse" in out, out
    assert engine.game.moves == []
