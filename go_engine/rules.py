"""Rules as a typed, validated config: ko rule, suicide, komi, move cap, handicap placement, presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import IntEnum

from go_engine import coords


class KoRule(IntEnum):
    """How repetition is forbidden (integer values are what the compiled kernels receive)."""

    SIMPLE = 0  # only the immediate recapture of a single-stone ko
    POSITIONAL = 1  # no move may recreate any earlier board position
    SITUATIONAL = 2  # no move may recreate an earlier position with the same player to move


class SuicideRule(IntEnum):
    FORBIDDEN = 0
    ALLOWED = 1  # multi-stone suicide is legal; single-stone suicide never is (as in KataGo)


KO_RULE_NAMES = {"simple": KoRule.SIMPLE, "positional": KoRule.POSITIONAL, "situational": KoRule.SITUATIONAL}
SUICIDE_RULE_NAMES = {"forbidden": SuicideRule.FORBIDDEN, "allowed": SuicideRule.ALLOWED}


def check_komi(komi: float) -> float:
    """Komi must be finite and a multiple of 0.5 (integers allow draws)."""
    try:
        value = float(komi)
    except (TypeError, ValueError):
        raise ValueError(f"komi must be a number, got {komi!r}") from None
    if not math.isfinite(value) or abs(value) > 1000 or value * 2 != round(value * 2):
        raise ValueError(f"komi must be a finite multiple of 0.5 within +-1000, got {komi!r}")
    return value


@dataclass(frozen=True)
class Rules:
    """Rules of one game. Scoring is always area scoring (Tromp-Taylor: stones plus empty regions that
    reach only one colour), so score = black area - white area - komi and a draw is possible with
    an integer komi."""

    ko: KoRule = KoRule.POSITIONAL
    """Ko rule: simple, positional (superko) or situational (superko)."""
    suicide: SuicideRule = SuicideRule.FORBIDDEN
    """Whether multi-stone suicide is legal."""
    komi: float = 7.5
    """Points added to white's score; a multiple of 0.5."""
    max_moves: int | None = None
    """Game ends (and is scored) after this many moves, passes included. ``None``: the engine's
    capacity of 4*n*n moves per game applies (see ``board.default_capacity``)."""

    def __post_init__(self) -> None:
        ko = self.ko
        if isinstance(ko, str):
            if ko not in KO_RULE_NAMES:
                raise ValueError(f"unknown ko rule {ko!r}; choose from {sorted(KO_RULE_NAMES)}")
            ko = KO_RULE_NAMES[ko]
        object.__setattr__(self, "ko", KoRule(ko))
        suicide = self.suicide
        if isinstance(suicide, str):
            if suicide not in SUICIDE_RULE_NAMES:
                raise ValueError(f"unknown suicide rule {suicide!r}; choose from {sorted(SUICIDE_RULE_NAMES)}")
            suicide = SUICIDE_RULE_NAMES[suicide]
        object.__setattr__(self, "suicide", SuicideRule(suicide))
        object.__setattr__(self, "komi", check_komi(self.komi))
        if self.max_moves is not None and (
            isinstance(self.max_moves, bool) or not isinstance(self.max_moves, int) or self.max_moves < 1
        ):
            raise ValueError(f"max_moves must be a positive integer or None, got {self.max_moves!r}")

    def with_komi(self, komi: float) -> "Rules":
        return replace(self, komi=komi)

    def to_dict(self) -> dict:
        inverse_ko = {v: k for k, v in KO_RULE_NAMES.items()}
        inverse_suicide = {v: k for k, v in SUICIDE_RULE_NAMES.items()}
        return {
            "ko": inverse_ko[self.ko],
            "suicide": inverse_suicide[self.suicide],
            "komi": self.komi,
            "max_moves": self.max_moves,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Rules":
        unknown = set(data) - {"ko", "suicide", "komi", "max_moves"}
        if unknown:
            raise ValueError(f"unknown rules keys: {sorted(unknown)}")
        return cls(**data)


PRESETS: dict[str, Rules] = {
    "chinese": Rules(ko=KoRule.POSITIONAL, suicide=SuicideRule.FORBIDDEN, komi=7.5),
    "tromp-taylor": Rules(ko=KoRule.POSITIONAL, suicide=SuicideRule.ALLOWED, komi=7.5),
    "new-zealand": Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.ALLOWED, komi=7.0),
    "simple-ko": Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=7.5),
}


def preset(name: str) -> Rules:
    if name not in PRESETS:
        raise ValueError(f"unknown rules preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]


def fixed_handicap_actions(n: int, stones: int) -> list[int]:
    """Stone placement of GTP ``fixed_handicap`` (GTP v2 spec section 4.1.1).

    Defined for odd boards from 7x7 up (2..9 stones; 7x7 allows at most 4) and for even boards
    from 8x8 (2..4 stones); raises ``ValueError`` otherwise.
    """
    coords.check_size(n)
    if n < 7:
        raise ValueError(f"fixed handicap is not defined on a {n}x{n} board")
    max_stones = 4 if (n % 2 == 0 or n == 7) else 9
    if not 2 <= stones <= max_stones:
        raise ValueError(f"invalid number of stones: {stones} (allowed 2..{max_stones} on {n}x{n})")
    edge = 2 if n < 13 else 3  # 0-based distance of the handicap lines from the edge
    lo, hi, mid = edge, n - 1 - edge, n // 2

    def at(row: int, col: int) -> int:
        return coords.rowcol_to_action(row, col, n)

    # Row 0 is the top: "lower left" is (hi, lo). GTP order: the corners first (lower-left and
    # upper-right are the 2-stone pair, upper-left the third: D4 Q16 D16 Q4 on 19x19, as GNU Go
    # and gomill place them), then centre for odd counts, then sides.
    lower_left, upper_right, upper_left, lower_right = at(hi, lo), at(lo, hi), at(lo, lo), at(hi, hi)
    centre = at(mid, mid)
    left, right, top, bottom = at(mid, lo), at(mid, hi), at(lo, mid), at(hi, mid)
    corners = [lower_left, upper_right, upper_left, lower_right]
    placement = {
        2: corners[:2],
        3: corners[:3],
        4: corners,
        5: corners + [centre],
        6: corners + [left, right],
        7: corners + [left, right, centre],
        8: corners + [left, right, top, bottom],
        9: corners + [left, right, top, bottom, centre],
    }
    return placement[stones]
