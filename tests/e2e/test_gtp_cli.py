"""``alphazero gtp`` as a subprocess: golden transcripts, an analysis session as Sabaki runs it,
and a whole game against GNU Go whose final score agrees with GNU Go's."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from alphazero.gtp_client import GtpEngine, gnugo_command
from go_engine.rules import preset

GOLDEN = Path(__file__).parent / "gtp_golden"
GTP = [sys.executable, "-m", "alphazero.cli", "gtp"]
BASIC_ARGS = ("--visits", "16", "--seed", "3", "--size", "9")


@pytest.fixture(scope="module")
def run_transcript():
    """(stdout, stderr) of the engine fed ``gtp_golden/NAME.gtp``, each transcript played once for
    the tests of this module that read it."""
    played: dict[tuple, tuple[str, str]] = {}

    def run(name: str, *args: str) -> tuple[str, str]:
        key = (name, *args)
        if key not in played:
            commands = (GOLDEN / f"{name}.gtp").read_text()
            proc = subprocess.run(GTP + list(args), input=commands, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr
            played[key] = (proc.stdout, proc.stderr)
        return played[key]

    return run


@pytest.mark.parametrize("name,args", [("basic", BASIC_ARGS),
                                       ("handicap", ("--visits", "8", "--seed", "5", "--size", "9"))])
def test_golden_transcript(run_transcript, name, args):
    out, err = run_transcript(name, *args)
    golden = GOLDEN / f"{name}.out"
    if os.environ.get("REGENERATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()
    for line in err.splitlines():
        assert not line.startswith(("=", "?", "info", "play")), f"stderr line a GUI would misread: {line!r}"


def test_stdout_carries_only_protocol(run_transcript):
    out, _ = run_transcript("basic", *BASIC_ARGS)
    for block in out.split("\n\n")[:-1]:
        assert block.startswith(("=", "?")), block


class Reader:
    """Reads an engine's stdout in a thread so the test never blocks forever."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream):
        for line in stream:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float) -> list[str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if predicate(self.lines):
                    return list(self.lines)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"timed out; engine wrote {self.lines[-10:]!r}")


def test_analysis_session_as_sabaki_runs_it():
    proc = subprocess.Popen(GTP + ["--size", "9", "--visits", "50"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    try:
        reader = Reader(proc.stdout)
        proc.stdin.write("1 boardsize 9\n2 clear_board\n3 kata-analyze 10\n")
        proc.stdin.flush()
        lines = reader.wait_for(lambda ls: sum(l.startswith("info ") for l in ls) >= 2, timeout=120)
        assert lines[:4] == ["=1", "", "=2", ""]
        assert lines[4] == "=3"
        for info in (l for l in lines if l.startswith("info ")):
            fields = info.split()
            assert fields[0] == "info" and fields[1] == "move"
            assert {"visits", "winrate", "prior", "lcb", "order", "pv", "scoreLead"} <= set(fields)
        proc.stdin.write("4 play b D4\n")
        proc.stdin.flush()
        lines = reader.wait_for(lambda ls: "=4" in ls, timeout=60)
        i = lines.index("=4")
        assert lines[i - 1] == "", "the analysis stream must end with an empty line before the next response"
        proc.stdin.write("5 list_stones black\n")
        proc.stdin.flush()
        lines = reader.wait_for(lambda ls: any(l.startswith("=5") for l in ls), timeout=60)
        assert "=5 D4" in lines
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.gnugo
@pytest.mark.slow
def test_full_game_against_gnugo_final_score_agrees():
    rules = preset("chinese").with_komi(6.5)
    n = 7
    ours = GtpEngine(GTP + ["--size", str(n), "--visits", "24", "--seed", "11", "--resign-threshold", "0"], timeout=120, name="ours")
    gnugo = GtpEngine(gnugo_command(level=0, rules=rules, seed=1), timeout=60, name="gnugo")
    try:
        for engine in (ours, gnugo):
            engine.boardsize(n)
            engine.clear_board()
            engine.komi(rules.komi)
        colours = {"black": ours, "white": gnugo}
        other = {"black": "white", "white": "black"}

        def play_phase(generate: str, max_moves: int) -> int:
            passes, colour, moves = 0, "black", 0
            while passes < 2 and moves < max_moves:
                mover = colours[colour]
                move = mover.command(generate, colour).strip().lower()
                assert move != "resign"
                colours[other[colour]].play(colour, move)
                passes = passes + 1 if move == "pass" else 0
                colour = other[colour]
                moves += 1
            return moves

        played = play_phase("genmove", 200)
        assert 10 < played < 200, f"the game did not end by two passes after a real game ({played} moves)"
        # Cleanup (as KGS does on a dispute): both capture what they consider dead, then pass.
        play_phase("kgs-genmove_cleanup", 200)
        assert gnugo.command("final_status_list", "dead").strip() == "", "GNU Go still sees dead stones"
        ours_stones = {c: set(ours.list_stones(c)) for c in ("black", "white")}
        assert ours_stones == {c: set(gnugo.list_stones(c)) for c in ("black", "white")}
        print(gnugo.showboard(), gnugo.final_score(), f"{played} moves")
        assert ours.final_score() == gnugo.final_score()
    finally:
        ours.close()
        gnugo.close()
