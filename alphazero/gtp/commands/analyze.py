"""GTP analysis commands, which stream: lz-analyze, kata-analyze and Sabaki's analyze (search
until the GUI sends a line, an info line every interval), and their genmove forms (search on
the clock, then play). The line formats are ``alphazero.gtp.analysis``'s."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Callable

from alphazero.analysis.query import MoveRestriction, OutputOptions
from alphazero.gtp import analysis
from alphazero.gtp.commands.play import think_seconds
from alphazero.gtp.protocol import GtpError, parse_color, parse_int
from alphazero.gtp.resign import report_is_hopeless
from go_engine import coords

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine

# kata-analyze's boolean keys -> the ``OutputOptions`` field they set, or ``root_info``.
KATA_FLAGS = {
    "ownership": "ownership", "ownershipStdev": "ownership_stdev", "movesOwnership": "moves_ownership",
    "movesOwnershipStdev": "moves_ownership_stdev", "rootInfo": "root_info", "pvVisits": "pv_visits",
    "pvEdgeVisits": "pv_visits",
}


def analyze_args(args, kata: bool, n: int) -> tuple[int | None, float, analysis.AnalyzeOptions, MoveRestriction | None]:
    """``[colour] [interval] [key value...]`` -> (colour or None, seconds between lines, options,
    avoid/allow restriction or None). ``avoid COLOR VERTEX,VERTEX,... UNTILDEPTH`` (any number) bans
    those moves for that colour in the first UNTILDEPTH plies of the search; ``allow ...`` (once,
    not with avoid) bans every other move, pass included, as KataGo's GTP does."""
    items = list(args)
    colour = None
    if items and items[0].lower() in ("b", "w", "black", "white"):
        colour = parse_color(items.pop(0))
    interval = 1.0
    if items and items[0].lstrip("+").isdigit():
        interval = parse_int(items.pop(0), "interval", 0) / 100.0
    flags: dict[str, bool] = {}
    max_moves = 0
    seen_allow = seen_avoid = False
    bans: list[tuple[int, set[int], int]] = []
    while items:
        key = items.pop(0)
        if key in ("avoid", "allow"):
            if len(items) < 3:
                raise GtpError(f"Could not parse analyze arguments: {key} needs COLOR VERTICES UNTILDEPTH")
            who = parse_color(items.pop(0))
            vertices = [v for v in items.pop(0).split(",") if v]
            try:
                actions = {coords.gtp_to_action(v, n) for v in vertices}
            except ValueError:
                raise GtpError(f"Could not parse analyze arguments: bad vertex in {key}") from None
            depth = parse_int(items.pop(0), "untilDepth", 1)
            if key == "allow" and (seen_allow or seen_avoid) or key == "avoid" and seen_allow:
                raise GtpError("Could not parse analyze arguments: allow only once, and not with avoid")
            seen_allow, seen_avoid = seen_allow or key == "allow", seen_avoid or key == "avoid"
            bans.append((who, actions, depth))
            continue
        if not items:
            raise GtpError(f"Could not parse analyze arguments: {key} needs a value")
        value = items.pop(0)
        if key == "interval":
            interval = parse_int(value, "interval", 0) / 100.0
        elif key == "maxmoves":
            max_moves = parse_int(value, "maxmoves", 0)
        elif key == "minmoves":
            parse_int(value, "minmoves", 0)
        elif kata and key in KATA_FLAGS:
            if value not in ("true", "false"):
                raise GtpError(f"Could not parse analyze arguments: {key} must be true or false")
            flags[KATA_FLAGS[key]] = flags.get(KATA_FLAGS[key], False) or value == "true"
        else:
            raise GtpError(f"Could not parse analyze arguments: unknown key {key}")
    restriction = MoveRestriction.from_entries(bans, allow=seen_allow, A=n * n + 1)
    root_info = flags.pop("root_info", False)
    options = analysis.AnalyzeOptions(OutputOptions(**flags), root_info=root_info, max_moves=max_moves)
    return colour, max(interval, 0.05), options, restriction


def analyze(engine: GtpEngine, args, emit: Callable[[str | None], None], input_pending: Callable[[], bool],
            kata: bool, genmove: bool, showpoint: bool = False) -> None:
    """``emit(None)`` writes the ``=id`` line; ``emit(text)`` writes output."""
    game = engine.game
    n = game.size
    colour, interval, options, restriction = analyze_args(args, kata, n)
    if genmove and colour is None:
        raise GtpError("syntax error")
    if colour is not None:
        game.give_turn(colour)
    until = restriction.for_root(game.to_play) if restriction is not None else None
    if kata:
        options = replace(options, showpoint=showpoint)
        fmt = lambda r: analysis.kata_line(r, n, options)  # noqa: E731
    else:
        fmt = lambda r: analysis.lz_line(r, n, options.max_moves)  # noqa: E731

    reported = [False]

    def report(r: analysis.SearchReport) -> None:
        if r.candidates:
            emit(fmt(r) + "\n")
            reported[0] = True

    emit(None)  # the engine writes the "=id" line now
    if genmove:
        mover = game.to_play
        result = engine.player.think(game, think_seconds(engine, mover), report=report, report_every=interval,
                                     restriction=until)
        report(result)
        move = "resign" if report_is_hopeless(result, engine.resign_threshold) else coords.action_to_gtp(result.best_action, n)
        if move != "resign":
            game.play(mover, result.best_action)
        emit(f"play {move}\n")
        return
    result = engine.player.think(game, float("inf"), report=report, report_every=interval, should_stop=input_pending,
                                 restriction=until)
    if not reported[0]:
        report(result)  # interrupted before the first interval: the GUI still gets one line


# ``analyze``/``genmove_analyze`` are Sabaki's: kata-analyze with a decimal point in every float
# (Sabaki reads a winrate without one as percent*100).
STREAMING = {
    "lz-analyze": partial(analyze, kata=False, genmove=False),
    "kata-analyze": partial(analyze, kata=True, genmove=False),
    "lz-genmove_analyze": partial(analyze, kata=False, genmove=True),
    "kata-genmove_analyze": partial(analyze, kata=True, genmove=True),
    "analyze": partial(analyze, kata=True, genmove=False, showpoint=True),
    "genmove_analyze": partial(analyze, kata=True, genmove=True, showpoint=True),
}
