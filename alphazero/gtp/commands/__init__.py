"""The GTP command table, by name: each group's module maps command names to handlers
``handler(engine, args) -> str`` (streaming ones ``handler(engine, args, emit, input_pending)``),
and ``GtpEngine`` binds them to its session."""

from __future__ import annotations

from alphazero.gtp.commands import analyze, board, core, extensions, play, rules, score


def _merge(*tables: dict) -> dict:
    merged: dict = {}
    for table in tables:
        twice = sorted(set(merged) & set(table))
        if twice:
            raise ValueError(f"GTP commands registered twice: {', '.join(twice)}")
        merged.update(table)
    return merged


HANDLERS = _merge(core.COMMANDS, board.COMMANDS, play.COMMANDS, score.COMMANDS, rules.COMMANDS, extensions.COMMANDS)
STREAMING = dict(analyze.STREAMING)
_merge(HANDLERS, STREAMING)  # a name is either plain or streaming, never both
# After these our own move was played: pondering on the opponent's time may start.
PONDER_AFTER = frozenset({"genmove", "kgs-genmove_cleanup", "lz-genmove_analyze", "kata-genmove_analyze",
                          "genmove_analyze"})
