"""GTP rules commands: kgs-rules, kata-get-rules, kata-set-rules and kata-set-rule (KataGo's
names and JSON object for a rule set); a change replays the position under the new rules."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from alphazero.gtp.protocol import GtpError, check_nargs
from go_engine import rules as R
from go_engine import sgf
from go_engine.rules import Rules

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine


def set_rules(engine: GtpEngine, rules: Rules) -> str:
    """Change the rules (komi and move cap kept); the position is replayed under them."""
    game = engine.game
    rules = replace(rules, komi=game.rules.komi, max_moves=game.rules.max_moves)
    warning = check_player_rules(engine, rules)
    try:
        game.set_rules(rules)
    except ValueError:  # IllegalMove included
        raise GtpError("the position is illegal under these rules") from None
    engine.log(f"Changed rules to {rules.name() or sgf.rules_to_ru(rules)}")
    if warning:
        engine.log(f"WARNING: {warning}")
    return ""


def check_player_rules(engine: GtpEngine, rules: Rules) -> str | None:
    """The player's warning for ``rules`` (a version-1 network substituting), or a ``GtpError``
    naming why its network cannot play them (territory rules for a network trained on area only)."""
    check = getattr(engine.player, "check_rules", None)
    if check is None:
        return None
    try:
        return check(rules)
    except ValueError as e:  # features.RulesNotSupported
        raise GtpError(str(e)) from None


def kgs_rules(engine: GtpEngine, args) -> str:
    # KGS's names: japanese, chinese, aga, new_zealand.
    check_nargs(args, 1)
    try:
        rules = R.preset(args[0])
    except ValueError:
        raise GtpError(f"unknown rules {args[0]!r}") from None
    return set_rules(engine, rules)


def kata_get_rules(engine: GtpEngine, args) -> str:
    if args:
        raise GtpError("Expected no arguments for kata-get-rules but got " + " ".join(args))
    return json.dumps(katago_rules_json(engine.game.rules), sort_keys=True, separators=(",", ":"))


def kata_set_rules(engine: GtpEngine, args) -> str:
    text = " ".join(args)
    try:
        rules = parse_katago_rules(text, engine.game.rules)
    except ValueError as e:
        raise GtpError(f"Unknown rules '{text}', {e}") from None
    return set_rules(engine, rules)


def kata_set_rule(engine: GtpEngine, args) -> str:
    check_nargs(args, 2)
    current = katago_rules_json(engine.game.rules)
    key = "scoring" if args[0] == "score" else args[0]
    if key not in current:
        raise GtpError(f"Unknown rules option {args[0]!r}")
    value: object = args[1]
    if key in ("suicide", "hasButton", "friendlyPassOk"):
        if args[1].lower() not in ("true", "false"):
            raise GtpError(f"{key} must be true or false, got {args[1]!r}")
        value = args[1].lower() == "true"
    try:
        rules = parse_katago_rules(json.dumps({**current, key: value}), engine.game.rules)
    except ValueError as e:
        raise GtpError(str(e)) from None
    return set_rules(engine, rules)


_KATAGO_WHB = {R.HandicapBonus.ZERO: "0", R.HandicapBonus.N: "N", R.HandicapBonus.N_MINUS_1: "N-1"}


def katago_rules_json(rules: Rules) -> dict:
    """``kata-get-rules``' object (komi aside). ``friendlyPassOk`` is KataGo's for the same preset
    (false for territory and Tromp-Taylor); it changes nothing here."""
    return {
        "friendlyPassOk": not rules.is_territory and rules.name() != "tromp-taylor",
        "hasButton": False,
        "ko": rules.ko.name,
        "scoring": rules.scoring.name,
        "suicide": rules.suicide == R.SuicideRule.ALLOWED,
        "tax": rules.tax.name,
        "whiteHandicapBonus": _KATAGO_WHB[rules.white_handicap_bonus],
    }


def parse_katago_rules(text: str, current: Rules) -> Rules:
    """A rules shorthand (any preset spelling) or KataGo's JSON object: missing keys take
    Tromp-Taylor's values, a missing tax is seki under territory scoring and none under area;
    ``komi`` is refused (``komi`` sets it). Raises ``ValueError`` saying what is wrong."""
    text = text.strip()
    if not text.startswith("{"):
        return R.preset(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a JSON object ({e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "score" in data:
        data["scoring"] = data.pop("score")
    known = {"ko", "scoring", "tax", "suicide", "hasButton", "whiteHandicapBonus", "friendlyPassOk"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"Unknown rules option {unknown[0]!r}" + (" (set komi with the komi command)" if unknown[0] == "komi" else ""))
    if data.get("hasButton", False) is not False:
        raise ValueError("a button is not supported")
    for key in ("suicide", "friendlyPassOk"):
        if key in data and not isinstance(data[key], bool):
            raise ValueError(f"{key} must be true or false")
    scoring_name = str(data.get("scoring", "AREA")).lower()
    ko = str(data.get("ko", "POSITIONAL")).lower()
    if ko == "spight":
        ko = "situational"
    tax = str(data.get("tax", "SEKI" if scoring_name == "territory" else "NONE")).lower()
    return Rules(ko=ko, suicide=R.SuicideRule.ALLOWED if data.get("suicide", True) else R.SuicideRule.FORBIDDEN,
                 scoring=scoring_name, tax=tax, white_handicap_bonus=str(data.get("whiteHandicapBonus", "0")),
                 komi=current.komi, max_moves=current.max_moves)


COMMANDS = {
    "kgs-rules": kgs_rules,
    "kata-get-rules": kata_get_rules,
    "kata-set-rules": kata_set_rules,
    "kata-set-rule": kata_set_rule,
}
