"""Arena matches: real games against GNU Go, resume after interruption, broken external engines,
parallel = serial, SPRT early stop, and player specs with clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from alphazero.arena.match import GAMES_DIR, RESULTS_FILE, GameSettings, MatchError, MatchPlan, run_match
from alphazero.arena.players import SpecError, parse_spec
from alphazero.arena.sprt import Sprt
from go_engine import board as B
from go_engine.sgf import read_sgf, replay
from tests.alphazero import tiny_checkpoint

HISTORY = 2


def quiet(_: str) -> None:
    pass


def make_checkpoint(directory: Path, seed: int, generation: int = 0) -> Path:
    return tiny_checkpoint.make_checkpoint(directory, seed, generation, HISTORY, size=9)


def strip_timing(results: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in results]


# ---- real games --------------------------------------------------------------------------------


@pytest.mark.gnugo
def test_random_loses_every_game_to_gnugo_level0_and_sgfs_read_back(tmp_path):
    out = tmp_path / "m"
    summary = run_match(MatchPlan(parse_spec("random"), parse_spec("gnugo:0"), 4, out, GameSettings(9)), log=quiet)
    assert summary.played_now == [0, 1, 2, 3]
    assert (summary.wins, summary.losses, summary.draws) == (0, 4, 0)
    elo, ci = summary.elo()
    assert elo < -150 and ci > 0
    lines = (out / RESULTS_FILE).read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        rec = json.loads(line)
        game = read_sgf(out / rec["sgf"])
        gnugo_colour = B.WHITE if rec["a_is_black"] else B.BLACK
        assert game.result.winner == gnugo_colour
        assert (game.black_player, game.white_player) == (rec["black"], rec["white"])
        assert {game.black_player, game.white_player} == {"random", "gnugo-l0"}
        assert game.metadata["game"] == str(rec["game"]) and game.metadata["seed"] == str(rec["seed"])
        assert game.size == 9 and game.komi == 7.5
        assert len(game.moves) == rec["num_moves"] > 10
        replay(game)  # every move legal under the match's rules
        if rec["reason"] == "score":
            # The referee's area score is what the record says.
            assert game.result.margin == abs(rec["margin"])


def test_resume_plays_only_missing_games(tmp_path):
    out = tmp_path / "m"
    a, b = parse_spec("random"), parse_spec("other=random")
    settings = GameSettings(7, max_moves=40)
    first = run_match(MatchPlan(a, b, 2, out, settings, seed=5), log=quiet)
    assert first.played_now == [0, 1]
    second = run_match(MatchPlan(a, b, 4, out, settings, seed=5), log=quiet)
    assert second.played_now == [2, 3]
    assert [r["game"] for r in second.results] == [0, 1, 2, 3]
    original = strip_timing(second.results)

    # Interrupt: game 1's line is gone and game 3's line was torn half-way through writing.
    path = out / RESULTS_FILE
    lines = path.read_text().splitlines()
    kept = [line for line in lines if json.loads(line)["game"] not in (1, 3)]
    torn = next(line for line in lines if json.loads(line)["game"] == 3)
    path.write_text("\n".join(kept) + "\n" + torn[: len(torn) // 2])
    third = run_match(MatchPlan(a, b, 4, out, settings, seed=5), log=quiet)
    assert third.played_now == [1, 3]
    games = [json.loads(line)["game"] for line in path.read_text().splitlines()]
    assert sorted(games) == [0, 1, 2, 3]  # each once, the torn line dropped
    assert strip_timing(third.results) == original  # the replayed games are the same games
    assert run_match(MatchPlan(a, b, 4, out, settings, seed=5), log=quiet).played_now == []


def test_out_dir_of_another_match_is_refused(tmp_path):
    out = tmp_path / "m"
    settings = GameSettings(5, max_moves=10)
    run_match(MatchPlan(parse_spec("random"), parse_spec("b=random"), 1, out, settings), log=quiet)
    with pytest.raises(MatchError, match="another match"):
        run_match(MatchPlan(parse_spec("random"), parse_spec("c=random"), 1, out, settings), log=quiet)
    with pytest.raises(MatchError, match="another match"):
        run_match(MatchPlan(parse_spec("random"), parse_spec("b=random"), 1, out, GameSettings(7)), log=quiet)


def test_parallel_games_give_the_same_results_as_serial(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ck", seed=1)
    a, b = parse_spec(f"raw:{ckpt}"), parse_spec("random")
    settings = GameSettings(5, max_moves=30, opening_moves=2)
    serial = run_match(MatchPlan(a, b, 4, tmp_path / "serial", settings, seed=3), parallel=1, log=quiet)
    parallel = run_match(MatchPlan(a, b, 4, tmp_path / "parallel", settings, seed=3), parallel=2, log=quiet)
    assert parallel.played_now == [0, 1, 2, 3]
    assert strip_timing(parallel.results) == strip_timing(serial.results)
    for r in serial.results:
        assert (tmp_path / "parallel" / r["sgf"]).read_bytes() == (tmp_path / "serial" / r["sgf"]).read_bytes()


@pytest.mark.gnugo
def test_sprt_stops_early(tmp_path):
    # GNU Go beats random every game: LLR grows by log(p1/p0) = 0.418 per win, bound log(0.9/0.1) = 2.197.
    plan = MatchPlan(parse_spec("gnugo:0"), parse_spec("random"), 20, tmp_path / "m", GameSettings(9), sprt=Sprt(0, 200, 0.1, 0.1))
    summary = run_match(plan, log=quiet)
    assert summary.sprt_decision == "H1"
    assert len(summary.results) == 6 and summary.wins == 6
    assert len(list((tmp_path / "m" / GAMES_DIR).glob("*.sgf"))) == 6


# ---- broken external engines -------------------------------------------------------------------

FAKE_ENGINE = r'''
import sys, time
mode, after = sys.argv[1], int(sys.argv[2])
cols = "ABCDEFGHJKLMNOPQRST"
size, taken, genmoves, last = 9, set(), 0, "A1"
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    cid = words.pop(0) if words[0].isdigit() else ""
    cmd, args = words[0], words[1:]
    reply = ""
    if cmd == "boardsize":
        size = int(args[0])
    elif cmd == "clear_board":
        taken, genmoves = set(), 0
    elif cmd == "play":
        taken.add(args[1].upper()); last = args[1].upper()
    elif cmd == "genmove":
        genmoves += 1
        if genmoves > after:
            if mode == "crash":
                sys.exit(3)
            if mode == "hang":
                time.sleep(3600)
            if mode == "illegal":
                reply = last
        if not reply:
            reply = next(f"{cols[c]}{r}" for r in range(1, size + 1) for c in range(size) if f"{cols[c]}{r}" not in taken)
            taken.add(reply)
    elif cmd == "quit":
        print(f"={cid}\n", flush=True)
        break
    print(f"={cid} {reply}\n", flush=True)
'''


@pytest.mark.parametrize("mode,reason,detail", [("crash", "crash", "died"), ("hang", "timeout", "within 1 s"),
                                                ("illegal", "illegal", "illegal move")])
def test_broken_engine_loses_with_the_reason_and_the_match_finishes(tmp_path, mode, reason, detail):
    script = tmp_path / "fake_gtp.py"
    script.write_text(FAKE_ENGINE)
    fake = parse_spec(f"fake=gtp:{sys.executable} {script} {mode} 2")
    settings = GameSettings(9, move_timeout=1.0)
    summary = run_match(MatchPlan(fake, parse_spec("random"), 2, tmp_path / "m", settings), log=quiet)
    assert [r["game"] for r in summary.results] == [0, 1]
    assert summary.losses == 2  # both games lost by the fake engine, the second after a restart
    for r in summary.results:
        assert r["reason"] == reason and detail in r["detail"]
        assert r["winner"] == ("white" if r["a_is_black"] else "black")
        assert 4 <= r["num_moves"] <= 6  # two good moves by the engine, then its failure
        game = read_sgf(tmp_path / "m" / r["sgf"])
        assert game.result.reason == ("time" if reason == "timeout" else "forfeit")
        assert game.metadata["end"] == reason


# ---- specs --------------------------------------------------------------------------------------


def test_specs_parse(tmp_path):
    run = tmp_path / "run"
    make_checkpoint(run / "models" / "3", seed=0, generation=3)
    make_checkpoint(run / "models" / "000010", seed=1, generation=10)
    newest = parse_spec(f"mcts:{run}@32")
    assert newest.kind == "mcts" and newest.visits == 32 and newest.path.endswith("000010")
    assert newest.name == "mcts:run/g10@32"
    timed = parse_spec(f"mcts:{run}/models/3@2.5s")
    assert timed.seconds == 2.5 and timed.name == "mcts:run/g3@2.5s"
    assert parse_spec(f"raw:{run}/models/3").name == "raw:run/g3"
    assert parse_spec("me=random").name == "me" and parse_spec("random").kind == "random"
    gnugo = parse_spec("gnugo:3")
    assert gnugo.level == 3 and gnugo.name == "gnugo-l3"
    python = parse_spec("gtp:python -m alphazero.cli gtp --visits 8")
    assert python.argv[0] == sys.executable and python.argv[1:] == ("-m", "alphazero.cli", "gtp", "--visits", "8")


@pytest.mark.gnugo
def test_bare_gnugo_resolves():
    spec = parse_spec("gtp:gnugo --mode gtp --level 1")
    assert Path(spec.argv[0]).name == "gnugo" and Path(spec.argv[0]).is_file()
    assert spec.argv[1:] == ("--mode", "gtp", "--level", "1")


@pytest.mark.parametrize("text,message", [
    ("", "empty player spec"),
    ("alphago", "unknown player spec"),
    ("raw:", "missing checkpoint"),
    ("raw:/no/such/dir", "no such checkpoint or run directory"),
    ("mcts:{ck}@abc", "neither visits"),
    ("mcts:{ck}@0", "must be positive"),
    ("gnugo:11", "level must be an integer in"),
    ("gnugo:x", "level must be an integer in"),
    ("gtp:", "missing command line"),
    ("gtp:no-such-engine-xyz --gtp", "not found on PATH"),
    ("gtp:'unclosed", "cannot split"),
    ("raw:{empty}", "neither a checkpoint"),
    ("raw:{run}", "no checkpoint under models"),
    ("raw:{broken}", "model.json"),
])
def test_spec_errors_are_clear(tmp_path, text, message):
    ck = make_checkpoint(tmp_path / "ck", seed=0)
    (tmp_path / "empty").mkdir()
    (tmp_path / "run" / "models" / "000001").mkdir(parents=True)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.json").write_text("{not json")
    spec = text.format(ck=ck, empty=tmp_path / "empty", run=tmp_path / "run", broken=tmp_path / "broken")
    with pytest.raises(SpecError, match=message):
        parse_spec(spec)


def test_players_with_one_name_are_refused(tmp_path):
    with pytest.raises(MatchError, match="both players are named"):
        run_match(MatchPlan(parse_spec("random"), parse_spec("random"), 2, tmp_path / "m"), log=quiet)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.gnugo
@pytest.mark.parametrize("when", ["mid-game", "at-start"])
def test_a_killed_worker_leaves_its_game_unplayed_and_a_rerun_plays_it(tmp_path, when):
    """SIGKILL of a parallel match's worker while it plays (``mid-game``), or as soon as it exists,
    before it could read its game or say anything (``at-start``): the match ends with the other
    worker's game, the dead one's game is reported failed (not counted, not lost), and a re-run
    plays it."""
    import multiprocessing
    import os
    import signal
    import threading
    import time

    out = tmp_path / "m"

    def plan() -> MatchPlan:
        return MatchPlan(parse_spec("gnugo:0"), parse_spec("random"), 2, out, GameSettings(9))

    box: dict = {}
    runner = threading.Thread(target=lambda: box.update(summary=run_match(plan(), parallel=2, log=quiet)), daemon=True)
    runner.start()
    victim, deadline = None, time.monotonic() + 180
    while victim is None and time.monotonic() < deadline and runner.is_alive():
        # A worker with a GNU Go child is in its first game (the engine starts with the game).
        workers = multiprocessing.active_children()
        if when == "at-start":
            victim = workers[0] if len(workers) == 2 else None
        else:
            victim = next((w for w in workers if _children(w.pid)), None)
        time.sleep(0.002 if when == "at-start" else 0.02)
    assert victim is not None, "no worker started a game"
    os.kill(victim.pid, signal.SIGKILL)
    runner.join(timeout=300)
    assert not runner.is_alive(), "the match did not end after a worker died"
    first = box["summary"]
    assert len(first.failed) == 1 and len(first.results) == 1, (first.failed, first.results)
    assert [r["game"] for r in first.results] != first.failed
    lines = [json.loads(line) for line in (out / RESULTS_FILE).read_text().splitlines()]
    assert [r["game"] for r in lines] == [first.results[0]["game"]]  # only the finished game is on disk
    again = run_match(plan(), parallel=1, log=quiet)
    assert again.played_now == first.failed and sorted(r["game"] for r in again.results) == [0, 1]
