"""GTP extensions of KGS, GNU Go and GoGui: kgs-game_over, is_legal, all_legal, list_stones and
gogui-analyze_commands (GoGui's menu of the commands above that show something)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alphazero.gtp.protocol import check_nargs, parse_color, parse_move
from go_engine import board as B
from go_engine import coords

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine

GOGUI_ANALYZE_COMMANDS = (
    "none/Final score/final_score",
    "plist/Dead stones/final_status_list dead",
    "plist/Seki stones/final_status_list seki",
    "plist/All legal moves/all_legal %m",
    "string/Show board/showboard",
)


def kgs_game_over(engine: GtpEngine, args) -> str:
    return ""


def is_legal(engine: GtpEngine, args) -> str:
    colour, action = parse_move(args, engine.size)
    return "1" if engine.game.move_status(colour, action) == B.LEGAL else "0"


def all_legal(engine: GtpEngine, args) -> str:
    check_nargs(args, 1)
    colour = parse_color(args[0])
    n = engine.size
    return " ".join(coords.action_to_gtp(int(a), n) for a in engine.game.legal_actions(colour) if a != n * n)


def list_stones(engine: GtpEngine, args) -> str:
    check_nargs(args, 1)
    colour = parse_color(args[0])
    return " ".join(coords.action_to_gtp(a, engine.size) for a in engine.game.stones(colour))


def gogui_analyze_commands(engine: GtpEngine, args) -> str:
    check_nargs(args, 0)
    return "\n".join(GOGUI_ANALYZE_COMMANDS)


COMMANDS = {
    "kgs-game_over": kgs_game_over,
    "is_legal": is_legal,
    "all_legal": all_legal,
    "list_stones": list_stones,
    "gogui-analyze_commands": gogui_analyze_commands,
}
