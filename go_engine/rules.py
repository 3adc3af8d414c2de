"""Rules as a typed, validated config: ko, suicide, scoring, tax, handicap bonus, komi, move cap, presets
by KataGo's names (and their common spellings), GTP handicap placement."""

from __future__ import annotations

import math
import re
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


class ScoringRule(IntEnum):
    """What a finished game counts (KataGo's ``scoring``)."""

    AREA = 0  # stones plus empty points surrounded by one colour (Chinese, AGA, Tromp-Taylor)
    TERRITORY = 1  # surrounded empty points plus prisoners (Japanese, Korean)


class TaxRule(IntEnum):
    """Which surrounded empty points score nothing (KataGo's ``tax``)."""

    NONE = 0  # every empty region reaching one colour only counts for it
    SEKI = 1  # empty points of regions in seki (not independently alive) count for nobody
    ALL = 2  # as SEKI, and every independently alive region pays 2 points (its two eyes)


class HandicapBonus(IntEnum):
    """Points white receives per black handicap stone under area scoring (KataGo's ``whiteHandicapBonus``)."""

    ZERO = 0  # none
    N = 1  # N points for N handicap stones (Chinese)
    N_MINUS_1 = 2  # N-1 points (AGA)


KO_RULE_NAMES = {"simple": KoRule.SIMPLE, "positional": KoRule.POSITIONAL, "situational": KoRule.SITUATIONAL}
SUICIDE_RULE_NAMES = {"forbidden": SuicideRule.FORBIDDEN, "allowed": SuicideRule.ALLOWED}
SCORING_RULE_NAMES = {"area": ScoringRule.AREA, "territory": ScoringRule.TERRITORY}
TAX_RULE_NAMES = {"none": TaxRule.NONE, "seki": TaxRule.SEKI, "all": TaxRule.ALL}
HANDICAP_BONUS_NAMES = {"0": HandicapBonus.ZERO, "N": HandicapBonus.N, "N-1": HandicapBonus.N_MINUS_1}
_FIELD_NAMES = {  # field -> (enum, name table)
    "ko": (KoRule, KO_RULE_NAMES),
    "suicide": (SuicideRule, SUICIDE_RULE_NAMES),
    "scoring": (ScoringRule, SCORING_RULE_NAMES),
    "tax": (TaxRule, TAX_RULE_NAMES),
    "white_handicap_bonus": (HandicapBonus, HANDICAP_BONUS_NAMES),
}


def handicap_bonus_points(bonus: HandicapBonus | int, handicap: int) -> int:
    """White's compensation for ``handicap`` black stones (0 or 1 stone is no handicap)."""
    if handicap < 2:
        return 0
    if bonus == HandicapBonus.N:
        return handicap
    if bonus == HandicapBonus.N_MINUS_1:
        return handicap - 1
    return 0


def handicap_stones(black: int, white: int) -> int:
    """Black's handicap stones of a setup of ``black`` black and ``white`` white stones: ``black``
    when there is no white one and more than one black, else 0 (KataGo's
    ``numHandicapStonesOnBoard``: a single black stone is an even game's first move)."""
    return black if white == 0 and black > 1 else 0


def white_komi(rules: "Rules", handicap: int) -> float:
    """What white receives in the count: komi plus the bonus for ``handicap`` black stones (KataGo's
    ``currentSelfKomi`` from white's view). A game's ``BoardState.komi`` holds it (set by
    ``history.BoardHistory`` and ``sgf.replay``), so the komi input plane and the search's
    terminal counts see the bonus as the final count applies it."""
    return rules.komi + handicap_bonus_points(rules.white_handicap_bonus, handicap)


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
    """Rules of one game. The defaults are area scoring without tax or handicap bonus (Tromp-Taylor
    counting: stones plus empty regions that reach only one colour), so score = black area - white
    area - komi, and a draw is possible with an integer komi. Territory scoring counts surrounded
    empty points plus prisoners instead (``go_engine.scoring``)."""

    ko: KoRule = KoRule.POSITIONAL
    """Ko rule: simple, positional (superko) or situational (superko)."""
    suicide: SuicideRule = SuicideRule.FORBIDDEN
    """Whether multi-stone suicide is legal."""
    komi: float = 7.5
    """Points added to white's score; a multiple of 0.5."""
    max_moves: int | None = None
    """Game ends (and is scored) after this many moves, passes included. ``None``: the engine's
    capacity of 4*n*n moves per game applies (see ``board.default_capacity``)."""
    scoring: ScoringRule = ScoringRule.AREA
    """What the final count is: area (stones + territory) or territory (territory + prisoners)."""
    tax: TaxRule = TaxRule.NONE
    """Points that count for nobody: none, the eyes of groups in seki, or also 2 per living group."""
    white_handicap_bonus: HandicapBonus = HandicapBonus.ZERO
    """White's compensation per black handicap stone under area scoring: 0, N or N-1."""

    def __post_init__(self) -> None:
        for name, (enum, names) in _FIELD_NAMES.items():
            value = getattr(self, name)
            if isinstance(value, str):
                key = value if value in names else value.strip().lower()
                if name == "white_handicap_bonus":
                    key = value.strip().upper()
                if key not in names:
                    raise ValueError(f"unknown {name.replace('_', ' ')} rule {value!r}; choose from {sorted(names)}")
                value = names[key]
            if isinstance(value, bool) or not isinstance(value, int) or value not in set(enum):
                raise ValueError(f"{name} must be one of {sorted(names)}, got {value!r}")
            object.__setattr__(self, name, enum(value))
        object.__setattr__(self, "komi", check_komi(self.komi))
        if self.max_moves is not None and (
            isinstance(self.max_moves, bool) or not isinstance(self.max_moves, int) or self.max_moves < 1
        ):
            raise ValueError(f"max_moves must be a positive integer or None, got {self.max_moves!r}")

    def with_komi(self, komi: float) -> "Rules":
        return replace(self, komi=komi)

    @property
    def is_territory(self) -> bool:
        return self.scoring == ScoringRule.TERRITORY

    def to_dict(self) -> dict:
        names = {name: {v: k for k, v in table.items()}[getattr(self, name)] for name, (_, table) in _FIELD_NAMES.items()}
        return {"ko": names["ko"], "suicide": names["suicide"], "komi": self.komi, "max_moves": self.max_moves,
                "scoring": names["scoring"], "tax": names["tax"], "white_handicap_bonus": names["white_handicap_bonus"]}

    @classmethod
    def from_dict(cls, data: "dict | str") -> "Rules":
        """From ``to_dict``'s form (fields missing in older files take today's defaults: area,
        no tax, no bonus) or from a preset name (``parse_rules_name``)."""
        if isinstance(data, str):
            return preset(data)
        if not isinstance(data, dict):
            raise ValueError(f"rules must be a table or a preset name, got {type(data).__name__}")
        unknown = set(data) - {*_FIELD_NAMES, "komi", "max_moves"}
        if unknown:
            raise ValueError(f"unknown rules keys: {sorted(unknown)}")
        return cls(**data)

    def name(self) -> str | None:
        """The preset these rules are (komi and move cap aside), or None."""
        for name, p in PRESETS.items():
            if replace(p, komi=self.komi, max_moves=self.max_moves) == self:
                return name
        return None


_TERRITORY = dict(scoring=ScoringRule.TERRITORY, tax=TaxRule.SEKI)
# KataGo's named rule sets (ANALYSIS_AND_RULES.md section 4.2), except that ``chinese`` keeps the
# positional superko it has always had here (KataGo's ``chinese`` is simple ko; its
# ``chinese-ogs`` / ``chinese-kgs`` are these rules) and ``new-zealand`` keeps komi 7.
PRESETS: dict[str, Rules] = {
    "chinese": Rules(ko=KoRule.POSITIONAL, suicide=SuicideRule.FORBIDDEN, komi=7.5, white_handicap_bonus=HandicapBonus.N),
    "japanese": Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=6.5, **_TERRITORY),
    "korean": Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=6.5, **_TERRITORY),
    "aga": Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.FORBIDDEN, komi=7.5, white_handicap_bonus=HandicapBonus.N_MINUS_1),
    "new-zealand": Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.ALLOWED, komi=7.0),
    "tromp-taylor": Rules(ko=KoRule.POSITIONAL, suicide=SuicideRule.ALLOWED, komi=7.5),
    "stone-scoring": Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=7.5, tax=TaxRule.ALL),
    "ancient-territory": Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=6.5, scoring=ScoringRule.TERRITORY, tax=TaxRule.ALL),
    "simple-ko": Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=7.5),
}
# Other spellings, after lower-casing and turning spaces and underscores into hyphens.
PRESET_ALIASES: dict[str, str] = {
    "jp": "japanese", "japan": "japanese",
    "kr": "korean", "korea": "korean",
    "cn": "chinese", "china": "chinese", "chinese-ogs": "chinese", "chinese-kgs": "chinese",
    "bga": "aga", "french": "aga", "aga-rules": "aga",
    "nz": "new-zealand", "newzealand": "new-zealand",
    "tt": "tromp-taylor", "tromptaylor": "tromp-taylor",
    "ancient-area": "stone-scoring", "stonescoring": "stone-scoring",
}


def parse_rules_name(text: str) -> str:
    """The preset name for ``text`` (any case; hyphen, underscore and space alike), or ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError(f"a rules name must be text, got {type(text).__name__}")
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    key = PRESET_ALIASES.get(key, key)
    if key not in PRESETS:
        raise ValueError(f"unknown rules {text!r}; choose from {', '.join(PRESETS)} (or {', '.join(PRESET_ALIASES)})")
    return key


def preset(name: str) -> Rules:
    """The preset ``name`` in any spelling ``parse_rules_name`` accepts."""
    return PRESETS[parse_rules_name(name)]


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
