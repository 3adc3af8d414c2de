"""Gauntlet: every checkpoint of a run, as raw network and as MCTS, against fixed anchors, its
predecessor and itself-with-search; one maximum-likelihood rating list from all the games.

Pairings per generation ``g`` (``p`` = the previous generation on disk), ``games`` games each::

    raw-g  vs every anchor      mcts-g vs every anchor
    raw-g  vs raw-p             mcts-g vs mcts-p
    mcts-g vs raw-g             (amplification measured head to head too)

The mcts players search as the run's self-play did: the ``search`` section of ``<run>/config.json``
(PUCT or Gumbel, its constants) without root noise (``players.py``), at the self-play budget unless
another is given. Each pairing is a resumable match under ``<out>/<A>__<B>/``, so re-running after
new generations appear plays only the new games. Ratings are anchored to the first anchor (0 Elo).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from alphazero.arena.match import GameSettings, MatchPlan, MatchSummary, run_matches
from alphazero.arena.players import PlayerSpec, SpecError, describe_search, list_generations, parse_spec, read_run_search
from alphazero.arena.ratings import Rating, fit_ratings
from alphazero.atomic_io import write_bytes_atomic
from go_engine.rules import Rules

DEFAULT_VISITS = 64  # when the run directory has no config.json naming its self-play budget
RATINGS_FILE = "ratings.json"


def raw_name(g: int) -> str:
    return f"raw-g{g}"


def mcts_name(g: int) -> str:
    return f"mcts-g{g}"


@dataclass(frozen=True)
class RunSettings:
    """What a run directory's ``config.json`` says about its games (defaults when it is absent)."""

    size: int = 9
    rules: Rules = Rules()
    visits: int = DEFAULT_VISITS
    found: bool = False


def read_run_settings(run_dir: Path) -> RunSettings:
    """Board size, rules and self-play simulations from ``<run>/config.json`` (only these keys;
    anything missing keeps the default)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return RunSettings()
    try:
        data = json.loads(path.read_text())
        size = int(data.get("board_size", 9))
        rules = Rules.from_dict(data["rules"]) if isinstance(data.get("rules"), dict) else Rules()
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise SpecError(f"{path}: cannot read the run's board size and rules ({e})") from None
    visits = read_run_search(path).simulations
    return RunSettings(size, rules, visits, True)


@dataclass
class GauntletReport:
    generations: list[int]
    anchor: str
    ratings: dict[str, Rating]
    summaries: list[MatchSummary]

    def rating(self, name: str) -> Rating | None:
        return self.ratings.get(name)

    def table(self) -> str:
        def cell(name: str) -> str:
            r = self.ratings.get(name)
            return f"{r.elo:+7.0f} +- {r.ci95:4.0f} ({r.games:3d} games)" if r else " " * 26

        lines = [f"Elo from {sum(len(s.results) for s in self.summaries)} games, anchored at {self.anchor} = 0 (95% intervals)",
                 f"{'gen':>5}  {'raw network':<26}  {'mcts':<26}  {'mcts - raw':>10}"]
        for g in self.generations:
            raw, mcts = self.ratings.get(raw_name(g)), self.ratings.get(mcts_name(g))
            gain = f"{mcts.elo - raw.elo:+10.0f}" if raw and mcts else ""
            lines.append(f"{g:>5}  {cell(raw_name(g))}  {cell(mcts_name(g))}  {gain}")
        others = sorted(n for n in self.ratings if not n.startswith(("raw-g", "mcts-g")))
        for name in others:
            lines.append(f"{name:>12}  {cell(name)}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"anchor": self.anchor, "generations": self.generations,
                "ratings": {n: {"elo": r.elo, "ci95": r.ci95, "games": r.games, "score": r.score} for n, r in self.ratings.items()},
                "matches": [{"a": s.a, "b": s.b, "wins": s.wins, "losses": s.losses, "draws": s.draws} for s in self.summaries]}


def gauntlet_plans(run_dir: Path, anchors: list[PlayerSpec], games: int, visits: int, settings: GameSettings,
                   out: Path, seed: int = 0, generations: list[int] | None = None) -> tuple[list[int], list[MatchPlan]]:
    """The generations on disk (or the chosen ones) and the matches that rate them."""
    found = dict(list_generations(run_dir))
    if not found:
        raise SpecError(f"{run_dir}: no checkpoints under models/<generation>/")
    chosen = sorted(found) if generations is None else sorted(generations)
    missing = [g for g in chosen if g not in found]
    if missing:
        raise SpecError(f"{run_dir}: no checkpoint for generation(s) {missing}; on disk: {sorted(found)}")
    if not anchors:
        raise SpecError("a gauntlet needs at least one anchor")
    names = [a.name for a in anchors]
    if len(set(names)) != len(names):
        raise SpecError(f"anchors must have distinct names, got {names}")
    raw = {g: parse_spec(f"raw:{found[g]}").with_name(raw_name(g)) for g in chosen}
    mcts = {g: parse_spec(f"mcts:{found[g]}@{visits}").with_name(mcts_name(g)) for g in chosen}
    pairs: list[tuple[PlayerSpec, PlayerSpec]] = []
    for i, g in enumerate(chosen):
        for anchor in anchors:
            pairs += [(raw[g], anchor), (mcts[g], anchor)]
        if i > 0:
            p = chosen[i - 1]
            pairs += [(raw[g], raw[p]), (mcts[g], mcts[p])]
        pairs.append((mcts[g], raw[g]))
    plans = [MatchPlan(a, b, games, out / f"{a.name}__{b.name}", settings, seed) for a, b in pairs]
    return chosen, plans


def rate(summaries: list[MatchSummary], anchor: str) -> dict[str, Rating]:
    results = [(s.a, s.b, r["score_a"]) for s in summaries for r in s.results]
    if not results:
        return {}
    return fit_ratings(results, anchor=anchor)


def run_gauntlet(run_dir: Path, anchors: list[PlayerSpec], games: int, visits: int, settings: GameSettings,
                 out: Path, parallel: int = 1, seed: int = 0, log: Callable[[str], None] = print,
                 generations: list[int] | None = None) -> GauntletReport:
    """Play the missing gauntlet games, fit the ratings, save ``ratings.json`` under ``out``."""
    chosen, plans = gauntlet_plans(run_dir, anchors, games, visits, settings, out, seed, generations)
    search = next((describe_search(p.a) for p in plans if p.a.kind == "mcts"), "")
    log(f"gauntlet of {run_dir}: generations {chosen}, {len(plans)} pairings x {games} games, mcts: {search}")
    summaries = run_matches(plans, parallel, log)
    report = GauntletReport(chosen, anchors[0].name, rate(summaries, anchors[0].name), summaries)
    write_bytes_atomic(out / RATINGS_FILE, (json.dumps(report.to_dict(), indent=1, sort_keys=True,
                                                       default=lambda x: None if isinstance(x, float) and not math.isfinite(x) else x) + "\n").encode())
    return report
