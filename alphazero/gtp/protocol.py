"""GTP v2 framing: input cleaning in the spec's order, command parsing, response formatting."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from go_engine import coords

MAX_LINE = 64 * 1024  # longer input lines are refused (the rest of the line is discarded)
MAX_ID = 2**63 - 1

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters except HT (and LF, split on)


class GtpError(Exception):
    """A command failed; the message is the GTP error text (``? message``)."""


@dataclass(frozen=True)
class Command:
    id: int | None
    name: str
    args: tuple[str, ...]


def clean_line(raw: str) -> str | None:
    """Clean one input line per GTP v2 section 3.1: remove control characters except HT, cut
    ``#`` comments, convert HT to space; ``None`` for lines that are then empty."""
    line = _CONTROL.sub("", raw)
    hash_at = line.find("#")
    if hash_at >= 0:
        line = line[:hash_at]
    line = line.replace("\t", " ").strip()
    return line or None


def parse_command(line: str) -> Command:
    """``[id] name [args...]`` from a cleaned line. An id-only line has name ``""``."""
    parts = line.split()
    cmd_id = None
    if parts and parts[0].isdigit():
        value = int(parts[0]) if len(parts[0]) <= 19 else MAX_ID + 1
        if value <= MAX_ID:
            cmd_id = value
            parts = parts[1:]
    if not parts:
        return Command(cmd_id, "", ())
    return Command(cmd_id, parts[0], tuple(parts[1:]))


def format_response(cmd_id: int | None, ok: bool, text: str = "") -> str:
    """``=id text`` / ``?id text`` ended by one empty line; the text never contains an empty line."""
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    body = "\n".join(line for line in lines if line.strip())
    head = ("=" if ok else "?") + ("" if cmd_id is None else str(cmd_id))
    return f"{head} {body}\n\n" if body else f"{head}\n\n"


def parse_int(text: str, what: str, low: int | None = None, high: int | None = None) -> int:
    if not re.fullmatch(r"[+-]?\d{1,9}", text):
        raise GtpError("syntax error")
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        raise GtpError(f"{what} out of range")
    return value


def parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GtpError("syntax error") from None
    if not math.isfinite(value):
        raise GtpError("syntax error")
    return value


def parse_color(text: str) -> int:
    """``b``/``black`` -> 1, ``w``/``white`` -> 2 (case-insensitive)."""
    lowered = text.lower()
    if lowered in ("b", "black"):
        return 1
    if lowered in ("w", "white"):
        return 2
    raise GtpError("syntax error")


def check_nargs(args, *counts: int) -> None:
    """A command's argument count must be one of ``counts``."""
    if len(args) not in counts:
        raise GtpError("syntax error")


def parse_vertex(text: str, n: int) -> int:
    """A GTP vertex (or ``pass``) of an ``n``x``n`` board to an action."""
    try:
        return coords.gtp_to_action(text, n)
    except ValueError:
        raise GtpError("syntax error" if not text[:1].isalpha() else "invalid coordinate") from None


def parse_move(args, n: int) -> tuple[int, int]:
    """``COLOR VERTEX`` (``play``, ``is_legal``) to (colour, action)."""
    check_nargs(args, 2)
    return parse_color(args[0]), parse_vertex(args[1], n)
