"""GTP commands that play: play, genmove, reg_genmove, kgs-genmove_cleanup, undo, and the clock
commands (time_settings, kgs-time_settings, time_left) that set how long genmove thinks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alphazero.gtp.commands.score import dead_stones
from alphazero.gtp.protocol import GtpError, check_nargs, parse_color, parse_float, parse_int, parse_move
from alphazero.gtp.resign import report_is_hopeless
from alphazero.gtp.time_control import TimeSystem, think_time
from go_engine import board as B
from go_engine import coords, scoring
from go_engine.history import IllegalMove

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine


def think_seconds(engine: GtpEngine, colour: int) -> float | None:
    """Seconds ``colour`` may think on its next move (None: the player's visit budget)."""
    empty = int(np.sum(engine.game.state.board[0] == B.EMPTY))
    seconds = think_time(engine.clocks[colour], empty, engine.size * engine.size)
    if seconds is None:
        return engine.time_per_move
    return seconds if engine.time_per_move is None else min(seconds, engine.time_per_move)


def choose(engine: GtpEngine, colour: int, allow_pass: bool = True) -> str:
    """``colour``'s move as a GTP vertex (or ``resign``), not played."""
    game = engine.game
    game.give_turn(colour)
    result = engine.player.think(game, think_seconds(engine, colour), allow_pass=allow_pass)
    if report_is_hopeless(result, engine.resign_threshold):
        return "resign"
    action = result.best_action
    n = engine.size
    if allow_pass and game.rules.is_territory and action != n * n:
        # Under territory scoring a stone in one's own area or on a dame gains nothing: pass
        # instead (and do not fill one's own territory). The search's terminal values count by
        # the rules, but its leaves' values are the network's (a version-1 network's are area's),
        # and a search of few visits may not tell such a move from a pass.
        own = engine.player.ownership(game)  # [n*n] black's view
        if scoring.gains_nothing_under_territory(game.state.board[0], n, action, colour, dead_stones(game, own),
                                                 neutral=np.abs(own) < 0.5):
            action = n * n
    return coords.action_to_gtp(action, n)


def play(engine: GtpEngine, args) -> str:
    colour, action = parse_move(args, engine.size)
    try:
        engine.game.play(colour, action)
    except IllegalMove:
        raise GtpError("illegal move") from None
    return ""


def _genmove(engine: GtpEngine, args, allow_pass: bool = True, keep: bool = True) -> str:
    check_nargs(args, 1)
    colour = parse_color(args[0])
    move = choose(engine, colour, allow_pass=allow_pass)
    if keep and move != "resign":
        engine.game.play(colour, coords.gtp_to_action(move, engine.size))
    return move


def genmove(engine: GtpEngine, args) -> str:
    return _genmove(engine, args)


def reg_genmove(engine: GtpEngine, args) -> str:
    game = engine.game
    snapshot = (list(game.setup), list(game.moves), game.first_to_play)
    try:
        return _genmove(engine, args, keep=False)
    finally:
        game.load(*snapshot)  # the turn handed to the colour asked for is taken back too


def genmove_cleanup(engine: GtpEngine, args) -> str:
    """No pass while dead stones remain on the board: search without the pass move unless the
    position is already clean (no stone is judged dead)."""
    check_nargs(args, 1)
    parse_color(args[0])
    return _genmove(engine, args, allow_pass=not dead_stones(engine.game, engine.player.ownership(engine.game)))


def undo(engine: GtpEngine, args) -> str:
    check_nargs(args, 0)
    try:
        engine.game.undo()
    except IllegalMove:
        raise GtpError("cannot undo") from None
    return ""


# ---- the clock ---------------------------------------------------------------------------------
def _set_clocks(engine: GtpEngine, system: TimeSystem) -> str:
    for clock in engine.clocks.values():
        clock.reset(system)
    return ""


def time_settings(engine: GtpEngine, args) -> str:
    check_nargs(args, 3)
    main = parse_int(args[0], "main time", 0)
    byo = parse_int(args[1], "byo-yomi time", 0)
    stones = parse_int(args[2], "byo-yomi stones", 0)
    return _set_clocks(engine, TimeSystem.from_gtp(main, byo, stones))


def kgs_time_settings(engine: GtpEngine, args) -> str:
    if not args:
        raise GtpError("syntax error")
    kind = args[0].lower()
    if kind == "none":
        check_nargs(args, 1)
        system = TimeSystem("none")
    elif kind == "absolute":
        check_nargs(args, 2)
        system = TimeSystem("absolute", parse_int(args[1], "main time", 0))
    elif kind in ("byoyomi", "canadian"):
        check_nargs(args, 4)
        main, period, count = (parse_int(a, "time", 0) for a in args[1:])
        if period <= 0 or count <= 0:
            system = TimeSystem("absolute", main)
        elif kind == "byoyomi":  # count = periods of one move each
            system = TimeSystem("byoyomi", main, period, 1, count)
        else:  # count = stones per period
            system = TimeSystem("canadian", main, period, count)
    else:
        raise GtpError("syntax error")
    return _set_clocks(engine, system)


def time_left(engine: GtpEngine, args) -> str:
    check_nargs(args, 3)
    colour = parse_color(args[0])
    seconds = parse_float(args[1])
    stones = parse_int(args[2], "stones", 0)
    if seconds < 0:
        raise GtpError("syntax error")
    engine.clocks[colour].update(seconds, stones)
    return ""


COMMANDS = {
    "play": play,
    "genmove": genmove,
    "reg_genmove": reg_genmove,
    "kgs-genmove_cleanup": genmove_cleanup,
    "undo": undo,
    "time_settings": time_settings,
    "kgs-time_settings": kgs_time_settings,
    "time_left": time_left,
}
