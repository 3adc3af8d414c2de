"""Parsing and validating analysis-engine input lines (KataGo's JSON query format).

A line is one of: a general error (bad JSON, not an object, no string id), an action
(``query_version``, ``clear_cache``, ``terminate``, ``terminate_all``), a query with a field error
(dropped), or a query with its warnings (it runs). Nothing here searches; the scheduler does.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from alphazero.analysis.position import FieldError, Positions, build_positions, parse_colour, parse_location, parse_pairs
from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine.rules import PRESETS, KoRule, Rules, ScoringRule, SuicideRule, TaxRule

MAX_LEN = 19  # largest board the engine plays (coords.check_size)
MIN_LEN = 2
MAX_VISITS = 1 << 50
MAX_PRIORITY = 1 << 62
DEFAULT_PV_LEN = 15
PERSPECTIVES = {"black": "BLACK", "b": "BLACK", "white": "WHITE", "w": "WHITE", "sidetomove": "SIDETOMOVE"}

# KataGo's rule names (lower case, "-" for "_" and " ") -> (our preset, the scoring KataGo means).
RULE_NAMES: dict[str, tuple[str, str]] = {
    "tromp-taylor": ("tromp-taylor", "area"),
    "chinese": ("chinese", "area"),
    "chinese-ogs": ("chinese", "area"),
    "chinese-kgs": ("chinese", "area"),
    "new-zealand": ("new-zealand", "area"),
    "simple-ko": ("simple-ko", "area"),
    "stone-scoring": ("stone-scoring", "stone"),
    "japanese": ("japanese", "territory"),
    "korean": ("korean", "territory"),
    "aga": ("aga", "area"),
    "bga": ("bga", "area"),
    "aga-button": ("aga-button", "button"),
}
DEFAULT_KOMI = {"area": 7.5, "stone": 7.5, "territory": 6.5, "button": 7.0}
SUBSTITUTE = "chinese"  # what we play when a named rule set is not one of our presets

POSITION_FIELDS = {
    "id", "moves", "initialStones", "initialPlayer", "rules", "komi", "whiteHandicapBonus", "boardXSize",
    "boardYSize", "analyzeTurns", "maxVisits", "rootPolicyTemperature", "rootFpuReductionMax", "analysisPVLen",
    "includeOwnership", "includeOwnershipStdev", "includeMovesOwnership", "includeMovesOwnershipStdev",
    "includePolicy", "includePVVisits", "avoidMoves", "allowMoves", "overrideSettings", "reportDuringSearchEvery",
    "firstReportDuringSearchAfter", "priority", "priorities",
}
MAX_WIDE_ROOT_NOISE = 5.0  # KataGo's bound for wideRootNoise (setup.cpp)
KNOWN_SETTINGS = {"reportAnalysisWinratesAs", "maxTime", "wideRootNoise", "maxVisits"}


@dataclass(frozen=True)
class MoveRestriction:
    """avoidMoves / allowMoves as KataGo applies them (``avoidMoveUntilByLoc``): an action is banned
    for a colour at every node of the search fewer than its ``untilDepth`` plies below the analysed
    position (depth 0 is the position's own move). ``allowMoves`` bans every other action,
    pass included, for its player."""

    until: dict[int, tuple[int, ...]]  # colour -> [A] untilDepth per action (0: never banned)

    @classmethod
    def from_entries(cls, entries: list[tuple[int, set[int], int]], allow: bool, A: int) -> "MoveRestriction | None":
        """``(colour, actions, untilDepth)`` entries of avoidMoves (``allow`` False: those actions
        banned) or allowMoves (every other action banned); None where nothing is banned."""
        until: dict[int, list[int]] = {}
        for colour, actions, depth in entries:
            depths = until.setdefault(colour, [0] * A)
            for a in (set(range(A)) - actions if allow else actions):
                depths[a] = max(depths[a], depth)
        return cls({c: tuple(d) for c, d in until.items()}) if until else None

    def for_root(self, to_play: int) -> np.ndarray:
        """``[2, A] int32``: the bans for the root's side to move (row 0) and the other side (row 1),
        as ``BatchedMCTS.restrict`` takes them."""
        size = len(next(iter(self.until.values())))
        out = np.zeros((2, size), np.int32)
        for colour, depths in self.until.items():
            out[0 if colour == to_play else 1] = depths
        return out


@dataclass(frozen=True)
class OutputOptions:
    """The optional outputs of a search's report, as KataGo's JSON queries (``includeOwnership``,
    ...) and its ``kata-analyze`` command (``ownership true``, ...) both ask for them."""

    ownership: bool = False  # the root's ownership
    ownership_stdev: bool = False
    moves_ownership: bool = False  # each candidate move's ownership
    moves_ownership_stdev: bool = False
    pv_visits: bool = False  # the visits of each node along each principal variation


# A query's include fields, in the order they are read (the first bad one is the error) -> the
# ``OutputOptions`` field each sets (None: ``includePolicy``, the query's own; kata-analyze has none).
INCLUDE_FIELDS = {"includeOwnership": "ownership", "includeOwnershipStdev": "ownership_stdev",
                  "includeMovesOwnership": "moves_ownership", "includeMovesOwnershipStdev": "moves_ownership_stdev",
                  "includePolicy": None, "includePVVisits": "pv_visits"}


@dataclass(frozen=True)
class Query:
    """A validated position query: everything the scheduler needs, positions already built."""

    id: str
    raw: dict  # the query object as received (terminate echoes, logs)
    size: int
    rules: Rules
    positions: Positions
    priorities: tuple[int, ...]  # one per analysed turn
    max_visits: int
    pv_len: int
    outputs: OutputOptions = OutputOptions()  # includeOwnership, ..., includePVVisits
    include_policy: bool = False
    perspective: str = "BLACK"  # BLACK, WHITE or SIDETOMOVE
    max_time: float | None = None  # seconds per turn
    report_every: float | None = None  # seconds between isDuringSearch results
    first_report_after: float | None = None
    root_policy_temperature: float = 1.0
    restriction: MoveRestriction | None = None  # avoidMoves / allowMoves
    wide_root_noise: float = 0.0  # overrideSettings.wideRootNoise (0: off)


@dataclass(frozen=True)
class Action:
    """A special action; ``raw`` is echoed back."""

    id: str
    action: str  # query_version, clear_cache, terminate, terminate_all
    raw: dict
    terminate_id: str | None = None
    turn_numbers: frozenset[int] | None = None  # None: every turn


@dataclass(frozen=True)
class Parsed:
    """What one input line became: ``replies`` to write now (errors, warnings), and a query or an
    action to carry out (neither after an error)."""

    replies: tuple[dict, ...] = ()
    query: Query | None = None
    action: Action | None = None


@dataclass(frozen=True)
class Defaults:
    """Engine-wide settings a query may override."""

    visits: int  # maxVisits when the query gives none
    max_visits: int  # the tree's budget: larger maxVisits are capped (with a warning)
    history: int  # the network's history planes (positions are built with it)
    perspective: str = "BLACK"  # reportAnalysisWinratesAs
    wide_root_noise: float = 0.0  # wideRootNoise (KataGo's analysis_example.cfg ships 0.04)
    feature_version: int = F.FEATURE_VERSION  # the network's input layout (1: area only)
    substitute_rules: bool = False  # a version-1 network plays territory rules anyway, with a warning


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


def _int_field(q: dict, key: str, low: int, high: int, default=None):
    if key not in q:
        return default
    value = q[key]
    if not _is_int(value) or not low <= value <= high:
        raise FieldError(key, f"Must be an integer from {low} to {high}")
    return value


def _number_field(q: dict, key: str, low: float, high: float, default=None):
    if key not in q:
        return default
    value = q[key]
    if not _is_number(value) or not low <= value <= high:
        raise FieldError(key, f"Must be a number from {low:g} to {high:g}")
    return float(value)


def _bool_field(q: dict, key: str) -> bool:
    if key not in q:
        return False
    if not isinstance(q[key], bool):
        raise FieldError(key, "Must be a boolean")
    return q[key]


def parse_rules(value, feature_version: int = F.FEATURE_VERSION, substitute: bool = False) -> tuple[Rules, str, str | None]:
    """(the rules we play, the scoring KataGo's rules mean, a warning naming the substitute or None).
    Rules a network of ``feature_version`` cannot represent (territory or a tax for version 1) are
    a field error unless ``substitute``, when they are played with a warning."""
    rules, kind, warning = _parse_rules(value)
    try:
        network_warning = F.check_rules_supported(rules, feature_version, substitute, where="the network")
    except F.RulesNotSupported as e:
        raise FieldError("rules", str(e)) from None
    if network_warning:
        warning = f"{warning}; {network_warning}" if warning else f"Rules: {network_warning}"
    return rules, kind, warning


def _parse_rules(value) -> tuple[Rules, str, str | None]:
    if isinstance(value, str):
        key = value.strip().lower().replace("_", "-").replace(" ", "-")
        if key not in RULE_NAMES:
            raise FieldError("rules", f"Could not parse rules: {value!r} (known: {', '.join(sorted(RULE_NAMES))})")
        name, scoring = RULE_NAMES[key]
        if name in PRESETS:
            return PRESETS[name], scoring, None
        return PRESETS[SUBSTITUTE], scoring, f"Rules {value!r} are not supported by this engine; using {SUBSTITUTE} rules (area scoring, positional superko) instead"
    if isinstance(value, dict):
        known = {"ko", "scoring", "tax", "suicide", "hasButton", "whiteHandicapBonus", "friendlyPassOk", "komi"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise FieldError("rules", f"Could not parse rules: unknown keys {unknown}")
        ko_names = {"SIMPLE": KoRule.SIMPLE, "POSITIONAL": KoRule.POSITIONAL, "SITUATIONAL": KoRule.SITUATIONAL, "SPIGHT": KoRule.SITUATIONAL}
        ko = value.get("ko", "POSITIONAL")
        if not isinstance(ko, str) or ko.upper() not in ko_names:
            raise FieldError("rules", f"Could not parse rules: ko must be one of {sorted(ko_names)}")
        scoring = value.get("scoring", "AREA")
        if not isinstance(scoring, str) or scoring.upper() not in ("AREA", "TERRITORY"):
            raise FieldError("rules", "Could not parse rules: scoring must be AREA or TERRITORY")
        suicide = value.get("suicide", False)
        if not isinstance(suicide, bool):
            raise FieldError("rules", "Could not parse rules: suicide must be a boolean")
        tax_names = {"NONE": TaxRule.NONE, "SEKI": TaxRule.SEKI, "ALL": TaxRule.ALL}
        tax = value.get("tax", "SEKI" if scoring.upper() == "TERRITORY" else "NONE")
        if not isinstance(tax, str) or tax.upper() not in tax_names:
            raise FieldError("rules", "Could not parse rules: tax must be NONE, SEKI or ALL")
        rules = Rules(ko=ko_names[ko.upper()], suicide=SuicideRule.ALLOWED if suicide else SuicideRule.FORBIDDEN,
                      scoring=ScoringRule.TERRITORY if scoring.upper() == "TERRITORY" else ScoringRule.AREA,
                      tax=tax_names[tax.upper()])
        changed = []
        if value.get("hasButton", False):
            changed.append("no button")
        if ko.upper() == "SPIGHT":
            changed.append("situational superko instead of spight")
        warning = f"Rules not fully supported by this engine; playing them with {', '.join(changed)}" if changed else None
        kind = "button" if value.get("hasButton", False) else ("territory" if scoring.upper() == "TERRITORY" else "area")
        return rules, kind, warning
    raise FieldError("rules", "Must be a rules name or a rules object")


def _restriction(q: dict, n: int) -> MoveRestriction | None:
    if "avoidMoves" in q and "allowMoves" in q:
        raise FieldError("allowMoves", "Cannot specify both allowMoves and avoidMoves")
    key = "avoidMoves" if "avoidMoves" in q else ("allowMoves" if "allowMoves" in q else None)
    if key is None:
        return None
    entries = q[key]
    if not isinstance(entries, list):
        raise FieldError(key, "Must be an array of {player, moves, untilDepth} objects")
    if key == "allowMoves" and len(entries) > 1:
        raise FieldError(key, "allowMoves may contain only one entry")
    parsed = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"player", "moves", "untilDepth"}:
            raise FieldError(key, "Each entry must have exactly player, moves and untilDepth")
        colour = parse_colour(entry["player"], key)
        if not isinstance(entry["moves"], list):
            raise FieldError(key, "moves must be an array of locations")
        actions = {parse_location(m, n, key, allow_pass=True) for m in entry["moves"]}
        depth = entry["untilDepth"]
        if not _is_int(depth) or depth < 1:
            raise FieldError(key, "untilDepth must be an integer >= 1")
        parsed.append((colour, actions, depth))
    return MoveRestriction.from_entries(parsed, allow=key == "allowMoves", A=n * n + 1)


def _settings(q: dict, defaults: Defaults) -> tuple[str, float | None, float, list[str]]:
    """(perspective, maxTime, wideRootNoise, unknown keys) from overrideSettings."""
    perspective, max_time, wide = defaults.perspective, None, defaults.wide_root_noise
    if "overrideSettings" not in q:
        return perspective, max_time, wide, []
    settings = q["overrideSettings"]
    if not isinstance(settings, dict):
        raise FieldError("overrideSettings", "Must be an object")
    if "reportAnalysisWinratesAs" in settings:
        value = str(settings["reportAnalysisWinratesAs"]).lower()
        if value not in PERSPECTIVES:
            raise FieldError("overrideSettings", f"Could not set settings: reportAnalysisWinratesAs must be BLACK, WHITE or SIDETOMOVE, got {settings['reportAnalysisWinratesAs']!r}")
        perspective = PERSPECTIVES[value]
    if "maxTime" in settings:
        value = settings["maxTime"]
        if not _is_number(value) or value <= 0:
            raise FieldError("overrideSettings", f"Could not set settings: maxTime must be a positive number, got {value!r}")
        max_time = float(value)
    if "wideRootNoise" in settings:
        value = settings["wideRootNoise"]
        if not _is_number(value) or not 0 <= value <= MAX_WIDE_ROOT_NOISE:
            raise FieldError("overrideSettings", f"Could not set settings: wideRootNoise must be a number from 0 to {MAX_WIDE_ROOT_NOISE:g}, got {value!r}")
        wide = float(value)
    return perspective, max_time, wide, sorted(set(settings) - KNOWN_SETTINGS)


def _board_side(q: dict) -> int:
    for key in ("boardXSize", "boardYSize"):
        if key not in q:
            raise FieldError(key, f"Must specify {key}")
        if not _is_int(q[key]) or not MIN_LEN <= q[key] <= MAX_LEN:
            raise FieldError(key, f"Must be an integer from {MIN_LEN} to {MAX_LEN}")
    n = q["boardXSize"]
    if q["boardYSize"] != n:
        raise FieldError("boardYSize", f"Only square boards are supported: boardYSize {q['boardYSize']} differs from boardXSize {n}")
    try:
        coords.check_size(n)
    except ValueError as e:
        raise FieldError("boardXSize", str(e)) from None
    return n


def _query_rules(q: dict, defaults: Defaults, warn: Callable[[str, str], None]) -> Rules:
    """The rules with the query's komi (the rules' default where it gives none)."""
    if "rules" not in q:
        raise FieldError("rules", "Must specify rules")
    rules, scoring, rules_warning = parse_rules(q["rules"], defaults.feature_version, defaults.substitute_rules)
    if rules_warning:
        warn("rules", rules_warning)
    komi = DEFAULT_KOMI[scoring]
    if "komi" in q:
        value = q["komi"]
        if not _is_number(value) or not -150 <= value <= 150 or value * 2 != round(value * 2):
            raise FieldError("komi", "Must be an integer or half-integer from -150 to 150")
        komi = float(value)
    rules = rules.with_komi(komi)
    if "whiteHandicapBonus" in q:
        if q["whiteHandicapBonus"] not in ("0", "N", "N-1"):
            raise FieldError("whiteHandicapBonus", 'Must be "0", "N" or "N-1"')
        if q["whiteHandicapBonus"] != "0":
            warn("whiteHandicapBonus", "Handicap bonus is not supported by this engine; using 0")
    return rules


def _analyze_turns(q: dict, num_moves: int) -> list[int]:
    """analyzeTurns (default: the last position), each once, in the query's order."""
    turns = q.get("analyzeTurns", [num_moves])
    if not isinstance(turns, list) or not all(_is_int(t) for t in turns):
        raise FieldError("analyzeTurns", "Must be an array of integers")
    for t in turns:
        if not 0 <= t <= num_moves:
            raise FieldError("analyzeTurns", f"Invalid turn number {t}: must be from 0 to {num_moves} (the number of moves)")
    return list(dict.fromkeys(turns))  # a repeated turn is analysed once


def _include_flags(q: dict) -> tuple[OutputOptions, bool]:
    """(the output options, includePolicy) of the query's include fields."""
    flags = {key: _bool_field(q, key) for key in INCLUDE_FIELDS}
    outputs = OutputOptions(**{field: flags[key] for key, field in INCLUDE_FIELDS.items() if field is not None})
    return outputs, flags["includePolicy"]


def _priorities(q: dict, num_moves: int, turns: list[int]) -> tuple[int, ...]:
    """One priority per analysed turn: ``priorities`` (per analyzeTurns entry) or ``priority`` for all."""
    if "priority" in q and "priorities" in q:
        raise FieldError("priorities", "Cannot specify both priority and priorities")
    if "priorities" not in q:
        p = _int_field(q, "priority", -MAX_PRIORITY, MAX_PRIORITY, 0)
        return tuple(p for _ in turns)
    ps = q["priorities"]
    if not isinstance(ps, list) or not all(_is_int(p) and abs(p) <= MAX_PRIORITY for p in ps):
        raise FieldError("priorities", f"Must be an array of integers from {-MAX_PRIORITY} to {MAX_PRIORITY}")
    if len(ps) != len(q.get("analyzeTurns", [num_moves])):
        raise FieldError("priorities", "Must have one entry per analyzeTurns entry")
    by_turn = dict(zip(q.get("analyzeTurns", [num_moves]), ps))
    return tuple(by_turn[t] for t in turns)


def parse_query(q: dict, defaults: Defaults) -> tuple[Query, list[dict]]:
    """Validate a position query; raises ``FieldError``. Returns the query and its warnings."""
    qid = q["id"]
    warnings: list[dict] = []

    def warn(fieldname: str, message: str) -> None:
        warnings.append({"id": qid, "field": fieldname, "warning": message})

    n = _board_side(q)
    rules = _query_rules(q, defaults, warn)
    if "moves" not in q:
        raise FieldError("moves", "Must specify moves (may be empty)")
    moves = parse_pairs(q["moves"], n, "moves", allow_pass=True)
    setup = parse_pairs(q.get("initialStones", []), n, "initialStones", allow_pass=False)
    initial = parse_colour(q["initialPlayer"], "initialPlayer") if "initialPlayer" in q else None
    turns = _analyze_turns(q, len(moves))
    max_visits = _int_field(q, "maxVisits", 1, MAX_VISITS, defaults.visits)
    if max_visits > defaults.max_visits:
        warn("maxVisits", f"maxVisits {max_visits} capped at {defaults.max_visits} (the engine's --max-visits)")
        max_visits = defaults.max_visits
    temperature = _number_field(q, "rootPolicyTemperature", 0.01, 100.0, 1.0)
    if _number_field(q, "rootFpuReductionMax", 0.0, 2.0) is not None:
        warn("rootFpuReductionMax", "rootFpuReductionMax is not supported by this engine; ignored")
    pv_len = _int_field(q, "analysisPVLen", 1, 1000, DEFAULT_PV_LEN)
    outputs, include_policy = _include_flags(q)
    restriction = _restriction(q, n)
    priorities = _priorities(q, len(moves), turns)
    report_every = _number_field(q, "reportDuringSearchEvery", 0.001, 1e6)
    first_after = _number_field(q, "firstReportDuringSearchAfter", 0.001, 1e6)
    perspective, max_time, wide_root_noise, unknown = _settings(q, defaults)
    if unknown:
        warn("overrideSettings", f"Unknown config params: {', '.join(unknown)}")
    for key in sorted(set(q) - POSITION_FIELDS):
        warn(key, "Unexpected or unused field")
    positions = build_positions(n, rules, defaults.history, setup, moves, initial, turns)
    query = Query(
        id=qid, raw=q, size=n, rules=rules, positions=positions, priorities=priorities, max_visits=max_visits,
        pv_len=pv_len, outputs=outputs, include_policy=include_policy, perspective=perspective, max_time=max_time,
        report_every=report_every, first_report_after=first_after, root_policy_temperature=temperature,
        restriction=restriction, wide_root_noise=wide_root_noise,
    )
    return query, warnings


ACTIONS = ("query_version", "clear_cache", "terminate", "terminate_all")


def _parse_action(q: dict) -> Action:
    qid, name = q["id"], q["action"]
    if name not in ACTIONS:
        raise ValueError(f"Unknown action: {name!r} (known: {', '.join(ACTIONS)})")
    turns = None
    if name in ("terminate", "terminate_all") and "turnNumbers" in q:
        t = q["turnNumbers"]
        if not isinstance(t, list) or not all(_is_int(x) for x in t):
            raise FieldError("turnNumbers", "Must be an array of integers")
        turns = frozenset(t)
    if name == "terminate":
        if "terminateId" not in q:
            raise FieldError("terminateId", "Must specify terminateId")
        if not isinstance(q["terminateId"], str):
            raise FieldError("terminateId", "Must be a string")
        return Action(qid, name, q, terminate_id=q["terminateId"], turn_numbers=turns)
    return Action(qid, name, q, turn_numbers=turns)


def parse_line(line: str, defaults: Defaults) -> Parsed | None:
    """One input line -> what to answer and what to do; None for a blank line."""
    if not line.strip():
        return None
    try:
        q = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as e:
        return Parsed(replies=({"error": f"Could not parse json: {e}"},))
    if not isinstance(q, dict):
        return Parsed(replies=({"error": "Request line must be a json object"},))
    if "id" not in q or not isinstance(q["id"], str):
        return Parsed(replies=({"error": 'Request must have a string "id" field'},))
    try:
        if "action" in q:
            if not isinstance(q["action"], str):
                return Parsed(replies=({"error": "action must be a string"},))
            return Parsed(action=_parse_action(q))
        query, warnings = parse_query(q, defaults)
        return Parsed(replies=tuple(warnings), query=query)
    except FieldError as e:
        return Parsed(replies=({"id": q["id"], "field": e.field, "error": str(e)},))
    except ValueError as e:
        return Parsed(replies=({"error": str(e)},))


def colour_name(colour: int) -> str:
    return "B" if colour == B.BLACK else "W"
