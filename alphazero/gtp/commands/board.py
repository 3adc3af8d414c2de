"""GTP commands that set up or show the board: boardsize, clear_board, komi, showboard, the three
handicap commands, loadsgf and printsgf."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from alphazero.atomic_io import write_bytes_atomic
from alphazero.gtp.commands.core import ENGINE_NAME
from alphazero.gtp.protocol import GtpError, check_nargs, parse_float, parse_int
from go_engine import ascii_board, coords, sgf
from go_engine import board as B
from go_engine.history import BoardHistory
from go_engine.rules import check_komi, fixed_handicap_actions

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine

MAX_SGF_BYTES = 4 * 1024 * 1024


def boardsize(engine: GtpEngine, args) -> str:
    check_nargs(args, 1)
    try:
        size = parse_int(args[0], "size")
        coords.check_size(size)
    except (GtpError, ValueError):
        raise GtpError("unacceptable size") from None
    engine.game = engine.new_game(size, engine.game.rules)
    return ""


def clear_board(engine: GtpEngine, args) -> str:
    check_nargs(args, 0)
    engine.game.clear()
    for clock in engine.clocks.values():
        clock.reset(clock.system)
    return ""


def komi(engine: GtpEngine, args) -> str:
    check_nargs(args, 1)
    value = parse_float(args[0])
    try:
        engine.game.set_komi(check_komi(value))
    except ValueError:  # IllegalMove included: the history is illegal under the new komi's rules
        raise GtpError("unacceptable komi") from None
    return ""


def showboard(engine: GtpEngine, args) -> str:
    check_nargs(args, 0)
    game = engine.game
    n = game.size
    letters = "   " + " ".join(coords.GTP_COLUMNS[:n])
    rows = ascii_board.to_ascii(game.state).split("\n")  # row 0 at the top: GTP row n
    lines = [letters, *(f"{n - r:2d} {row} {n - r:2d}" for r, row in enumerate(rows)), letters]
    to_play = "black" if game.to_play == B.BLACK else "white"
    lines.append(f"komi {game.komi:g}, {to_play} to play, move {len(game.moves)}")
    return "\n" + "\n".join(lines)


# ---- handicap ------------------------------------------------------------------------------------
def _handicap_count(engine: GtpEngine, args) -> int:
    check_nargs(args, 1)
    count = parse_int(args[0], "number of stones")
    if count < 2 or count > engine.size * engine.size - 1:
        raise GtpError("invalid number of stones")
    if not engine.game.is_empty():
        raise GtpError("board not empty")
    return count


def fixed_handicap(engine: GtpEngine, args) -> str:
    count = _handicap_count(engine, args)
    try:
        actions = fixed_handicap_actions(engine.size, count)
    except ValueError:
        raise GtpError("invalid number of stones") from None
    engine.game.place_setup(B.BLACK, actions, B.WHITE)
    return " ".join(coords.action_to_gtp(a, engine.size) for a in actions)


def place_free_handicap(engine: GtpEngine, args) -> str:
    count = _handicap_count(engine, args)
    n = engine.size
    try:
        actions = fixed_handicap_actions(n, count)
    except ValueError:
        actions = []
    if not actions:
        # Beyond the fixed patterns: star-like points first, then spread over the board.
        actions = sorted(range(n * n), key=lambda a: (_star_distance(a, n), a))[:count]
    engine.game.place_setup(B.BLACK, actions, B.WHITE)
    return " ".join(coords.action_to_gtp(a, n) for a in actions)


def set_free_handicap(engine: GtpEngine, args) -> str:
    n = engine.size
    if len(args) < 2 or len(args) > n * n - 1:
        raise GtpError("bad vertex list")
    if not engine.game.is_empty():
        raise GtpError("board not empty")
    try:
        actions = [coords.gtp_to_action(v, n) for v in args]
    except ValueError:
        raise GtpError("bad vertex list") from None
    if len(set(actions)) != len(actions) or n * n in actions:
        raise GtpError("bad vertex list")
    try:
        engine.game.place_setup(B.BLACK, actions, B.WHITE)
    except ValueError:  # IllegalMove included
        raise GtpError("bad vertex list") from None
    return ""


def _star_distance(a: int, n: int) -> float:
    row, col = divmod(a, n)
    line = 2 if n < 13 else 3
    targets = sorted({line, n // 2, n - 1 - line})
    return min(abs(row - t) for t in targets) + min(abs(col - t) for t in targets)


# ---- SGF -----------------------------------------------------------------------------------------
def loadsgf(engine: GtpEngine, args) -> str:
    check_nargs(args, 1, 2)
    move_number = parse_int(args[1], "move number", 1, 100000) if len(args) == 2 else None
    path = Path(args[0])
    try:
        if not path.is_file() or path.stat().st_size > MAX_SGF_BYTES:
            raise GtpError("cannot load file")
        position = sgf.moves_until(sgf.read_sgf(path), move_number)
        record = position.game
        setup = [(B.BLACK, a) for a in record.setup_black] + [(B.WHITE, a) for a in record.setup_white]
        game = engine.new_game(record.size, replace(engine.game.rules, komi=record.komi),
                               setup=setup, moves=record.moves, first_to_play=record.first_to_play())
        game.give_turn(position.to_play)
    except GtpError:
        raise
    except (OSError, ValueError):  # IllegalMove included
        raise GtpError("cannot load file") from None
    engine.game = game
    return "black" if position.to_play == B.BLACK else "white"


def printsgf(engine: GtpEngine, args) -> str:
    check_nargs(args, 0, 1)
    g = engine.game
    record = sgf.SgfGame(
        size=g.size,
        rules=g.rules,
        moves=tuple(g.moves),
        handicap=g.handicap(),
        setup_black=tuple(a for c, a in g.setup if c == B.BLACK),
        setup_white=tuple(a for c, a in g.setup if c == B.WHITE),
        black_player=ENGINE_NAME,
        white_player=ENGINE_NAME,
        date=datetime.date.today().isoformat(),
    )
    if len(args) == 1:
        try:
            write_bytes_atomic(Path(args[0]), sgf.to_sgf_bytes(record))
        except OSError:
            raise GtpError("cannot write file") from None
        return ""
    return sgf.to_sgf_bytes(record).decode("utf-8")


COMMANDS = {
    "boardsize": boardsize,
    "clear_board": clear_board,
    "komi": komi,
    "showboard": showboard,
    "fixed_handicap": fixed_handicap,
    "place_free_handicap": place_free_handicap,
    "set_free_handicap": set_free_handicap,
    "loadsgf": loadsgf,
    "printsgf": printsgf,
}
