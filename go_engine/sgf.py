"""SGF FF[4] game records: read and write one game (main line) through sgfmill, and replay it on a board."""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sgfmill import sgf, sgf_grammar

from go_engine import board, coords
from go_engine.rules import PRESETS, HandicapBonus, KoRule, Rules, ScoringRule, SuicideRule, TaxRule, check_komi, handicap_stones, preset, white_komi

BLACK = board.BLACK
WHITE = board.WHITE
COLOUR_LETTERS = {BLACK: "B", WHITE: "W"}

APPLICATION = "alphazero-go"
MAX_BYTES = 4 * 1024 * 1024  # far above any real game record (a 19x19 game with comments is ~100 KB)
MAX_PARENS = 10_000  # variations (and so nesting depth) allowed, counted before parsing
MAX_MOVES = 10_000  # moves on the main line; beyond any game the engine can hold (4 n^2 <= 1444)

RESULT_REASONS = ("score", "resign", "time", "forfeit", "draw", "void", "unknown")
_WIN_REASONS = {"R": "resign", "RESIGN": "resign", "T": "time", "TIME": "time", "F": "forfeit", "FORFEIT": "forfeit"}
_REASON_LETTERS = {"resign": "R", "time": "T", "forfeit": "F"}

# RU values written for our presets (the names KataGo and most GUIs know); any spelling
# ``rules.parse_rules_name`` accepts reads back. Any other Rules is written in KataGo's
# descriptive form ``ko<KO>score<SCORING>[tax<TAX>]sui<0|1>[whb<N|N-1>]`` (tax only where it is not the
# scoring's default).
PRESET_RU_NAMES = {"chinese": "Chinese", "japanese": "Japanese", "korean": "Korean", "aga": "AGA",
                   "tromp-taylor": "Tromp-Taylor", "new-zealand": "NZ"}
# KataGo's Rules::toString; a button (not supported here) falls back to the default, a friendly-pass
# flag does not change play here.
_KATAGO_RULES_RE = re.compile(
    r"^ko(SIMPLE|POSITIONAL|SITUATIONAL|SPIGHT)score(AREA|TERRITORY)(?:tax(NONE|SEKI|ALL))?sui([01])"
    r"(?:button0)?(?:whb(0|N|N-1))?(?:fpok[01])?$"
)
_KATAGO_KO = {"SIMPLE": KoRule.SIMPLE, "POSITIONAL": KoRule.POSITIONAL, "SITUATIONAL": KoRule.SITUATIONAL, "SPIGHT": KoRule.SITUATIONAL}

_STATUS_TEXT = {
    board.OCCUPIED: "the point is occupied",
    board.SUICIDE: "it is suicide",
    board.KO_FORBIDDEN: "it is forbidden by the ko rule",
    board.GAME_OVER: "the game is already over (two passes or the move cap)",
}


class SgfError(ValueError):
    """A record that cannot be read, written or replayed; the message says what is wrong."""


@dataclass(frozen=True)
class GameResult:
    """The RE property, typed. ``winner`` is BLACK, WHITE or None; ``margin`` is the score margin
    (points, > 0) for a score win, 0.0 for a draw, None otherwise."""

    winner: int | None
    margin: float | None
    reason: str  # one of RESULT_REASONS

    def __post_init__(self) -> None:
        if self.reason not in RESULT_REASONS:
            raise SgfError(f"result reason must be one of {RESULT_REASONS}, got {self.reason!r}")
        if self.winner not in (None, BLACK, WHITE):
            raise SgfError(f"result winner must be BLACK ({BLACK}), WHITE ({WHITE}) or None, got {self.winner!r}")
        needs_winner = self.reason in ("score", "resign", "time", "forfeit")
        if needs_winner and self.winner is None:
            raise SgfError(f"a {self.reason} result needs a winner")
        if self.reason in ("draw", "void") and self.winner is not None:
            raise SgfError(f"a {self.reason} result has no winner")
        if self.reason == "score":
            if self.margin is None or not math.isfinite(self.margin) or self.margin <= 0:
                raise SgfError(f"a score result needs a finite margin > 0, got {self.margin!r}")
            object.__setattr__(self, "margin", float(self.margin))
        elif self.reason == "draw":
            if self.margin not in (None, 0, 0.0):
                raise SgfError(f"a draw has margin 0, got {self.margin!r}")
            object.__setattr__(self, "margin", 0.0)
        elif self.margin is not None:
            raise SgfError(f"a {self.reason} result has no margin, got {self.margin!r}")

    @classmethod
    def from_score(cls, black_minus_white: float) -> "GameResult":
        """Result of a scored game from the margin ``black - white - komi``."""
        if black_minus_white > 0:
            return cls(BLACK, float(black_minus_white), "score")
        if black_minus_white < 0:
            return cls(WHITE, -float(black_minus_white), "score")
        return cls(None, 0.0, "draw")

    def to_sgf(self) -> str:
        """``B+3.5``, ``W+R``, ``B+T``, ``B+F``, ``0``, ``Void``, ``?`` (or ``B+`` for a known winner, unknown reason)."""
        if self.reason == "draw":
            return "0"
        if self.reason == "void":
            return "Void"
        if self.winner is None:
            return "?"
        prefix = COLOUR_LETTERS[self.winner] + "+"
        if self.reason == "score":
            return prefix + f"{self.margin:g}"
        if self.reason == "unknown":
            return prefix
        return prefix + _REASON_LETTERS[self.reason]

    @classmethod
    def from_sgf(cls, text: str) -> "GameResult":
        """Parse an RE value. Case-insensitive; anything unrecognised is an unknown result (no winner)."""
        t = text.strip().upper()
        if t in ("0", "DRAW", "JIGO", "D"):
            return cls(None, 0.0, "draw")
        if t == "VOID":
            return cls(None, None, "void")
        m = re.fullmatch(r"([BW])\+(.*)", t)
        if m is None:
            return cls(None, None, "unknown")
        winner = BLACK if m.group(1) == "B" else WHITE
        rest = m.group(2).strip()
        if rest == "":
            return cls(winner, None, "unknown")
        if rest in _WIN_REASONS:
            return cls(winner, None, _WIN_REASONS[rest])
        try:
            margin = float(rest)
        except ValueError:
            return cls(winner, None, "unknown")
        if not math.isfinite(margin) or margin <= 0:
            return cls(winner, None, "unknown")
        return cls(winner, margin, "score")


@dataclass(frozen=True)
class SgfGame:
    """One game record. Points are actions (``coords``: ``a = row * n + col``, pass = ``n * n``),
    colours are ``board.BLACK`` / ``board.WHITE``. Komi lives in ``rules.komi``; ``rules.max_moves``
    is not part of SGF and reads back as None."""

    size: int
    rules: Rules = field(default_factory=lambda: PRESETS["chinese"])
    moves: tuple[tuple[int, int], ...] = ()  # (colour, action) in order, passes included
    handicap: int = 0  # HA: how many handicap stones (they are in setup_black; HA places none)
    setup_black: tuple[int, ...] = ()  # AB actions
    setup_white: tuple[int, ...] = ()  # AW actions
    result: GameResult | None = None  # RE; None when absent
    black_player: str = ""  # PB
    white_player: str = ""  # PW
    date: str = ""  # DT, e.g. "2026-05-09"
    metadata: dict[str, str] = field(default_factory=dict, hash=False)  # root C[key=value,...]
    comment: str = ""  # a root C that is not a key=value list (exclusive with metadata)

    def __post_init__(self) -> None:
        try:
            n = coords.check_size(self.size)
        except ValueError as e:
            raise SgfError(str(e)) from None
        if not isinstance(self.rules, Rules):
            raise SgfError(f"rules must be a go_engine.rules.Rules, got {type(self.rules).__name__}")
        moves = tuple((int(c), int(a)) for c, a in self.moves)
        if len(moves) > MAX_MOVES:
            raise SgfError(f"{len(moves)} moves is more than the {MAX_MOVES} a record may hold")
        for i, (c, a) in enumerate(moves):
            if c not in (BLACK, WHITE):
                raise SgfError(f"move {i + 1}: colour must be BLACK ({BLACK}) or WHITE ({WHITE}), got {c}")
            if not 0 <= a <= n * n:
                raise SgfError(f"move {i + 1}: action {a} is off a {n}x{n} board")
        object.__setattr__(self, "moves", moves)
        black = tuple(int(a) for a in self.setup_black)
        white = tuple(int(a) for a in self.setup_white)
        for name, stones in (("setup_black", black), ("setup_white", white)):
            for a in stones:
                if not 0 <= a < n * n:
                    raise SgfError(f"{name}: action {a} is off a {n}x{n} board")
        if len(set(black + white)) != len(black) + len(white):
            raise SgfError("setup stones repeat a point")
        object.__setattr__(self, "setup_black", black)
        object.__setattr__(self, "setup_white", white)
        if isinstance(self.handicap, bool) or not isinstance(self.handicap, (int, np.integer)) or not 0 <= self.handicap <= n * n:
            raise SgfError(f"handicap must be an integer in [0, {n * n}], got {self.handicap!r}")
        object.__setattr__(self, "handicap", int(self.handicap))
        if self.result is not None and not isinstance(self.result, GameResult):
            raise SgfError(f"result must be a GameResult or None, got {type(self.result).__name__}")
        for name in ("black_player", "white_player", "date", "comment"):
            if not isinstance(getattr(self, name), str):
                raise SgfError(f"{name} must be a string")
        metadata = dict(self.metadata)
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise SgfError(f"metadata keys and values must be strings, got {key!r}: {value!r}")
            if key != key.strip() or not key or any(ch in key for ch in ",=\n\r"):
                raise SgfError(f"metadata key {key!r} must be non-empty, unpadded, without ',', '=' or newlines")
            if value != value.strip() or any(ch in value for ch in ",\n\r"):
                raise SgfError(f"metadata value {value!r} (key {key!r}) must be unpadded, without ',' or newlines")
        object.__setattr__(self, "metadata", metadata)
        if metadata and self.comment:
            raise SgfError("a record has either root metadata or a root comment, not both")

    @property
    def komi(self) -> float:
        return self.rules.komi

    def first_to_play(self) -> int:
        """Colour to move after the setup: the first move's, else white in a handicap game, else black."""
        if self.moves:
            return self.moves[0][0]
        return WHITE if self.handicap >= 2 else BLACK


# ---- rules <-> RU ------------------------------------------------------------------------------


def rules_to_ru(rules: Rules) -> str:
    """RU text: a preset's name when the rules are one (komi aside), else KataGo's descriptive form."""
    name = rules.name()
    if name in PRESET_RU_NAMES:
        return PRESET_RU_NAMES[name]
    whb = {HandicapBonus.ZERO: "", HandicapBonus.N: "whbN", HandicapBonus.N_MINUS_1: "whbN-1"}[rules.white_handicap_bonus]
    default_tax = TaxRule.SEKI if rules.is_territory else TaxRule.NONE  # what a reader assumes when tax is absent
    tax = "" if rules.tax == default_tax else f"tax{rules.tax.name}"
    return f"ko{rules.ko.name}score{rules.scoring.name}{tax}sui{int(rules.suicide == SuicideRule.ALLOWED)}{whb}"


def ru_to_rules(text: str | None, komi: float) -> Rules:
    """Rules for an RU value: a preset in any spelling (``Japanese``, ``jp``, ``AGA``, ``NZ``, ...),
    KataGo's descriptive ``ko...score...tax...sui.`` form (SPIGHT read as situational; a missing tax
    is seki for territory scoring, none for area, as in KataGo), and otherwise (absent or unknown)
    the chinese preset. Komi comes from KM."""
    if text is not None:
        try:
            return preset(text).with_komi(komi)
        except ValueError:
            pass
        m = _KATAGO_RULES_RE.match(text.strip())
        if m is not None:
            ko, scoring, tax, suicide, whb = m.groups()
            scoring = ScoringRule[scoring]
            tax = TaxRule[tax] if tax else (TaxRule.SEKI if scoring == ScoringRule.TERRITORY else TaxRule.NONE)
            return Rules(ko=_KATAGO_KO[ko], suicide=SuicideRule.ALLOWED if suicide == "1" else SuicideRule.FORBIDDEN,
                         komi=komi, scoring=scoring, tax=tax, white_handicap_bonus=whb or "0")
    return PRESETS["chinese"].with_komi(komi)


# ---- writing -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _application_version() -> str:
    try:
        return metadata.version(APPLICATION)
    except metadata.PackageNotFoundError:
        return "unknown"


def to_sgf_bytes(game: SgfGame) -> bytes:
    """Serialise the record as UTF-8 SGF FF[4]; passes are written ``[]`` (as KataGo does)."""
    n = game.size
    out = sgf.Sgf_game(size=n, encoding="UTF-8")
    root = out.get_root()
    root.set("AP", (APPLICATION, _application_version()))
    root.set("KM", game.komi)
    root.set("RU", rules_to_ru(game.rules))
    if game.handicap:
        root.set("HA", game.handicap)
    if game.black_player:
        root.set("PB", game.black_player)
    if game.white_player:
        root.set("PW", game.white_player)
    if game.date:
        root.set("DT", game.date)
    if game.result is not None:
        root.set("RE", game.result.to_sgf())
    if game.metadata:
        root.set("C", ",".join(f"{k}={v}" for k, v in game.metadata.items()))
    elif game.comment:
        root.set("C", game.comment)
    # Points are written raw from ``coords`` (sgfmill's own (row, col) counts rows from the bottom).
    if game.setup_black:
        root.set_raw_list("AB", [coords.action_to_sgf(a, n).encode() for a in game.setup_black])
    if game.setup_white:
        root.set_raw_list("AW", [coords.action_to_sgf(a, n).encode() for a in game.setup_white])
    node = root
    for colour, action in game.moves:
        node = node.new_child()
        # action_to_sgf gives "" for a pass; sgfmill's set_move would write "tt".
        node.set_raw(COLOUR_LETTERS[colour], coords.action_to_sgf(action, n).encode())
    return out.serialise()


# ---- reading -----------------------------------------------------------------------------------


def _board_size(root_props: dict) -> int:
    values = root_props.get("SZ")
    if values is None:
        return 19  # the SGF default
    raw = values[0].decode("ascii", "replace").strip()
    parts = [p.strip() for p in raw.split(":")]
    if len(parts) > 2 or not all(p.isdigit() for p in parts):
        raise SgfError(f"bad SZ[{raw}]: not a board size")
    if len(parts) == 2 and parts[0] != parts[1]:
        raise SgfError(f"SZ[{raw}]: only square boards are supported")
    n = int(parts[0])
    if not coords.MIN_SIZE <= n <= coords.MAX_SIZE:
        raise SgfError(f"SZ[{raw}]: board size must be in [{coords.MIN_SIZE}, {coords.MAX_SIZE}]")
    return n


def _point_list(values: list[bytes], n: int, what: str) -> list[int]:
    """Actions of an AB/AW value list, expanding FF[4] compressed rectangles ``aa:cc``."""
    out = []
    for raw in values:
        text = raw.decode("ascii", "replace").strip()
        try:
            if ":" in text:
                first, last = text.split(":", 1)
                if first in ("", "tt") or last in ("", "tt"):
                    raise ValueError(f"not a rectangle of points: {text!r}")
                r0, c0 = divmod(coords.sgf_to_action(first, n), n)
                r1, c1 = divmod(coords.sgf_to_action(last, n), n)
                out.extend(r * n + c for r in range(min(r0, r1), max(r0, r1) + 1) for c in range(min(c0, c1), max(c0, c1) + 1))
            else:
                a = coords.sgf_to_action(text, n)
                if a == n * n:
                    raise ValueError(f"empty point {text!r}")
                out.append(a)
        except ValueError as e:
            raise SgfError(f"{what}[{text}]: {e}") from None
    return out


def _parse_metadata(text: str) -> dict[str, str] | None:
    """``key=value,key=value`` (KataGo's root comment) as a dict, or None if the text is not that."""
    items = [item.strip() for item in text.strip().split(",")]
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or "\n" in key or key in out:
            return None
        out[key] = value
    return out


def _coarse_game(data, max_bytes: int) -> tuple[sgf_grammar.Coarse_game_tree, int]:
    """(sgfmill's coarse tree of ``data``, the board size), after the cheap checks that refuse huge
    or pathological inputs before sgfmill sees them; the root's SZ is normalised to the size."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SgfError(f"SGF data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise SgfError(f"SGF data is {len(data)} bytes, more than the {max_bytes} allowed")
    if data.count(b"(") > MAX_PARENS:
        raise SgfError(f"SGF data has more than {MAX_PARENS} '(' (variations or nesting): refused")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SgfError(f"SGF data is not UTF-8 (byte {e.start}): {e.reason}") from None
    try:
        coarse = sgf_grammar.parse_sgf_game(data)
    except ValueError as e:
        raise SgfError(f"malformed SGF: {e}") from None
    root_props = coarse.sequence[0]
    for props in sgf_grammar.main_sequence_iter(coarse):
        if "" in props:
            raise SgfError("a property identifier has no upper-case letter (e.g. 'b[aa]'): malformed SGF")
    gm = root_props.get("GM", [b"1"])[0].strip()
    if gm != b"1":
        raise SgfError(f"GM[{gm.decode('ascii', 'replace')}]: not a game of Go")
    n = _board_size(root_props)
    root_props["SZ"] = [str(n).encode()]  # sgfmill reads SZ with int(): normalise "9:9" and " 9 "
    return coarse, n


def _root_text(root: sgf.Tree_node, ident: str) -> str | None:
    """The text of a root property, None where it is absent."""
    if not root.has_property(ident):
        return None
    try:
        return root.get(ident)
    except ValueError as e:
        raise SgfError(f"bad {ident}: {e}") from None


def _root_komi(root: sgf.Tree_node) -> float:
    try:
        return check_komi(root.get("KM")) if root.has_property("KM") else 0.0
    except ValueError as e:
        raise SgfError(f"bad KM[{root.get_raw('KM').decode('utf-8')}]: {e}") from None


def _root_handicap(root: sgf.Tree_node, n: int) -> int:
    if not root.has_property("HA"):
        return 0
    try:
        handicap = int(root.get("HA"))
    except ValueError:
        raise SgfError(f"bad HA[{root.get_raw('HA').decode('utf-8')}]: not an integer") from None
    if not 0 <= handicap <= n * n:
        raise SgfError(f"HA[{handicap}] is out of range for a {n}x{n} board")
    return handicap


def _root_comment(root: sgf.Tree_node) -> tuple[dict[str, str], str]:
    """(metadata, comment): a root comment of ``key=value`` pairs is metadata, any other a comment."""
    text = _root_text(root, "C")
    if not text:
        return {}, ""
    parsed = _parse_metadata(text)
    return ({}, text) if parsed is None else (parsed, "")


def _main_line_moves(nodes: list[sgf.Tree_node], n: int) -> list[tuple[int, int]]:
    """``(colour, action)`` of every move of the main line (``nodes``, the root first)."""
    moves: list[tuple[int, int]] = []
    for depth, node in enumerate(nodes):
        if depth > 0 and node.has_setup_stones():
            raise SgfError(f"setup stones (AB/AW/AE) after the root, before move {len(moves) + 1}: not supported")
        props = node.get_raw_property_map()
        has_b, has_w = "B" in props, "W" in props
        if has_b and has_w:
            raise SgfError(f"a node holds both B and W (move {len(moves) + 1})")
        if not (has_b or has_w):
            continue
        colour = BLACK if has_b else WHITE
        raw = props["B" if has_b else "W"][0].decode("ascii", "replace").strip()
        try:
            action = coords.sgf_to_action(raw, n)
        except ValueError as e:
            raise SgfError(f"move {len(moves) + 1} ({COLOUR_LETTERS[colour]}[{raw}]): {e}") from None
        moves.append((colour, action))
        if len(moves) > MAX_MOVES:
            raise SgfError(f"the main line has more than {MAX_MOVES} moves")
    return moves


def from_sgf_bytes(data: bytes, max_bytes: int = MAX_BYTES) -> SgfGame:
    """Parse one game (the main line: the first variation at every branch). Passes may be ``[]``
    or, on boards up to 19x19, ``[tt]``. Raises ``SgfError`` on anything it cannot read."""
    coarse, n = _coarse_game(data, max_bytes)
    try:
        game = sgf.Sgf_game.from_coarse_game_tree(coarse, override_encoding="UTF-8")
    except ValueError as e:
        raise SgfError(f"malformed SGF: {e}") from None
    nodes = game.main_sequence_iter()
    root = next(nodes)
    komi = _root_komi(root)
    rules = ru_to_rules(_root_text(root, "RU"), komi)
    handicap = _root_handicap(root, n)
    if root.has_property("AE"):
        raise SgfError("AE (remove stones) in the root is not supported")
    setup_black = _point_list(root.get_raw_list("AB"), n, "AB") if root.has_property("AB") else []
    setup_white = _point_list(root.get_raw_list("AW"), n, "AW") if root.has_property("AW") else []
    re_text = _root_text(root, "RE")
    result = GameResult.from_sgf(re_text) if re_text is not None and re_text.strip() else None
    metadata, comment = _root_comment(root)
    moves = _main_line_moves([root, *nodes], n)
    return SgfGame(
        size=n,
        rules=rules,
        moves=tuple(moves),
        handicap=handicap,
        setup_black=tuple(setup_black),
        setup_white=tuple(setup_white),
        result=result,
        black_player=_root_text(root, "PB") or "",
        white_player=_root_text(root, "PW") or "",
        date=_root_text(root, "DT") or "",
        metadata=metadata,
        comment=comment,
    )


def read_sgf(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> SgfGame:
    """Read a record from a file (size checked before reading)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise SgfError(f"{path}: {size} bytes, more than the {max_bytes} allowed")
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SgfError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return from_sgf_bytes(data, max_bytes=max_bytes)
    except SgfError as e:
        raise SgfError(f"{path}: {e}") from None


# ---- replay ------------------------------------------------------------------------------------


class Position(NamedTuple):
    """A record cut before some move, and the colour to move there (GTP ``loadsgf`` replies with it)."""

    game: SgfGame
    to_play: int


def moves_until(game: SgfGame, move_number: int | None = None) -> Position:
    """The position *before* move ``move_number`` (1-based, as GNU Go's ``loadsgf FILE N``): the
    first N-1 moves, with the colour of move N to play. ``None`` or N past the end: the whole game,
    with the opponent of the last mover to play. The result is dropped when moves are cut."""
    if move_number is not None and (
        isinstance(move_number, bool) or not isinstance(move_number, (int, np.integer)) or move_number < 1
    ):
        raise SgfError(f"move number must be an integer >= 1, got {move_number!r}")
    if move_number is None or move_number > len(game.moves):
        to_play = 3 - game.moves[-1][0] if game.moves else game.first_to_play()
        return Position(game, to_play)
    k = int(move_number) - 1
    return Position(replace(game, moves=game.moves[:k], result=None), game.moves[k][0])


def replay(game: SgfGame, history: int = 8, to_play: int | None = None) -> board.BoardState:
    """A batch of one: the setup stones, then every move with ``board.play`` under the game's rules;
    its komi is the rules' plus white's handicap bonus for a black-only setup (``rules.white_komi``).
    A move by the side not to move (records need not alternate) first hands that side the turn.
    ``to_play`` (e.g. from ``moves_until``) overrides the side to move at the end.
    Raises ``SgfError`` naming the first illegal move."""
    n = game.size
    state = board.state_for(game.rules, 1, n, history=history)
    start = game.first_to_play()
    if game.setup_black or game.setup_white:
        actions = list(game.setup_black) + list(game.setup_white)
        colours = [BLACK] * len(game.setup_black) + [WHITE] * len(game.setup_white)
        try:
            board.setup_stones(state, 0, actions, colours, start, game.rules)
        except ValueError as e:
            raise SgfError(f"setup stones: {e}") from None
    else:
        state.to_play[0] = start
    state.komi[0] = white_komi(game.rules, handicap_stones(len(game.setup_black), len(game.setup_white)))
    ko, suicide = int(game.rules.ko), int(game.rules.suicide)
    for i, (colour, action) in enumerate(game.moves):
        if state.to_play[0] != colour and not state.done[0]:
            state.to_play[0] = colour
        if not board.play(state, action, game.rules)[0]:
            point = coords.action_to_point(action, n)
            status = board.move_status_row(state, 0, point, ko, suicide)
            why = _STATUS_TEXT.get(status, "it is illegal")
            raise SgfError(
                f"move {i + 1} ({COLOUR_LETTERS[colour]} {coords.action_to_gtp(action, n)}) is illegal: {why}"
            )
    if to_play is not None:
        if to_play not in (BLACK, WHITE):
            raise SgfError(f"to_play must be BLACK or WHITE, got {to_play!r}")
        state.to_play[0] = to_play
    return state
