"""Evaluation during training: each due generation plays the previously evaluated one and a fixed
anchor (a Ray task, so the driver keeps serving self-play); results go to metrics, to the run's
Elo plot, and decide gating when it is on.

The Elo shown is the match against the anchor (``arena.anchor`` = 0 Elo), each generation measured
directly with its own 95% interval. The chained Elo (generation 0 = 0, plus each match against the
previous evaluated generation) is kept in the history and the plot, labelled as chained, with its
interval grown by every link: its errors add up, so after many generations it says little."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import ray

from alphazero.arena.gate import gate, gating_sprt
from alphazero.arena.match import GameSettings, MatchPlan, run_matches
from alphazero.arena.players import parse_spec
from alphazero.config.arena import ArenaConfig
from alphazero.config.run import RunConfig
from alphazero.train.run_dir import RunDir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """The result of one ``evaluate_generation`` task (the driver's message; ``to_dict`` is the
    entry of ``arena/training_elo.json`` before the chained Elo is added)."""

    generation: int
    previous: int
    wins: int
    losses: int
    draws: int
    elo_vs_previous: float
    ci_vs_previous: float
    elo_vs_anchor: float | None  # Elo of this generation with the anchor at 0 (None: no anchor games)
    ci_vs_anchor: float | None  # its 95% half-width
    decision: str  # accept / reject / continue (gating), or "n/a"
    anchor: str = ""  # the anchor's player name (random, gnugo-l<level>)
    anchor_wins: int = 0  # this generation's results against the anchor
    anchor_losses: int = 0
    anchor_draws: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class EvaluationState:
    """The evaluation chain and the gate, kept in ``state/evaluation.json`` (rewritten atomically
    after every change) so a resumed run goes on publishing the generation the gate accepted, not
    merely the newest checkpoint, and plays the matches a stop left undecided."""

    published: int = 0
    """Generation the self-play actors play with (with gating: the newest accepted one)."""
    last_evaluated: int = 0
    """Newest generation whose match was started: the next due generation plays it (no gating)."""
    pending: dict[int, int] = field(default_factory=dict)
    """Generation -> opponent generation, for matches started but not yet decided."""
    decisions: dict[int, str] = field(default_factory=dict)
    """Generation -> accept / reject (gating), n/a (no gating) or failed (the match task failed)."""

    def to_json(self) -> dict:
        return {"published": self.published, "last_evaluated": self.last_evaluated,
                "pending": {str(g): p for g, p in sorted(self.pending.items())},
                "decisions": {str(g): d for g, d in sorted(self.decisions.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "EvaluationState":
        """Parse what ``to_json`` wrote; ValueError naming the bad field otherwise."""
        try:
            published, last = int(data["published"]), int(data["last_evaluated"])
            pending = {int(g): int(p) for g, p in dict(data.get("pending", {})).items()}
            decisions = {int(g): str(d) for g, d in dict(data.get("decisions", {})).items()}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"malformed evaluation state ({type(e).__name__}: {e})") from None
        if min([published, last, *pending, *pending.values(), *decisions], default=0) < 0:
            raise ValueError("malformed evaluation state (negative generation)")
        return cls(published, last, pending, decisions)

    def accepted(self) -> list[int]:
        return sorted(g for g, d in self.decisions.items() if d == "accept")

    def in_use(self) -> frozenset[int]:
        """Generations whose checkpoints must stay: the published one and both sides of open matches."""
        return frozenset({self.published, *self.pending, *self.pending.values()})


def restore_evaluation_state(run: RunDir, arena: ArenaConfig, newest: int) -> EvaluationState:
    """The state a session starts from, given the newest valid checkpoint ``newest``: what was
    saved, less anything newer than ``newest`` (a checkpoint that did not survive is redone), plus
    a pending match for every due generation the last session published but never started
    evaluating (it stopped between the checkpoint and the state write)."""
    data = run.read_evaluation_state()
    state = EvaluationState(published=newest, last_evaluated=newest)
    if data is not None:
        try:
            state = EvaluationState.from_json(data)
        except ValueError as e:
            log.warning("%s: %s; the gate restarts from generation %d", run.evaluation_state_path, e, newest)
    if not arena.gating:
        state.published = newest  # always-accept: self-play follows the newest generation
    elif state.published > newest:
        log.warning("the published generation %d has no valid checkpoint: self-play uses generation %d",
                    state.published, newest)
        state.published = newest
    state.pending = {g: min(p, newest) for g, p in state.pending.items() if g <= newest}
    state.decisions = {g: d for g, d in state.decisions.items() if g <= newest}
    state.last_evaluated = min(state.last_evaluated, newest)
    for generation in range(state.last_evaluated + 1, newest + 1):
        if arena.due(generation) and generation not in state.decisions and generation not in state.pending:
            state.pending[generation] = state.published if arena.gating else state.last_evaluated
            state.last_evaluated = generation
    return state


def _player(name: str, run: RunDir, generation: int, visits: int):
    return parse_spec(f"{name}=mcts:{run.model_dir(generation)}@{visits}")


@ray.remote(num_cpus=0, max_retries=0)
def evaluate_generation(run_root: str, config: RunConfig, generation: int, previous: int) -> Evaluation:
    """Matches of ``generation`` against ``previous`` and the anchor, resumable in ``arena/training``."""
    arena = config.arena
    run = RunDir(Path(run_root))
    visits = arena.visits or config.search.simulations
    new = _player(f"gen{generation}", run, generation, visits)
    old = _player(f"gen{previous}", run, previous, visits)
    settings = GameSettings(config.board_size, config.rules, arena.max_moves, arena.opening_moves, arena.move_timeout_s)
    base = run.root / "arena" / "training"
    sprt = gating_sprt(arena) if arena.gating and arena.gating_method == "sprt" else None
    plans = [MatchPlan(new, old, arena.games_vs_previous, base / f"{generation:06d}-vs-{previous:06d}", settings,
                       seed=generation, sprt=sprt)]
    anchor = parse_spec(arena.anchor)
    if arena.games_vs_anchor > 0:
        plans.append(MatchPlan(new, anchor, arena.games_vs_anchor,
                               base / f"{generation:06d}-vs-anchor", settings, seed=10_000 + generation))
    summaries = run_matches(plans, parallel=arena.parallel_games, log=lambda text: None)
    vs_prev = summaries[0]
    elo_prev = vs_prev.elo() or (0.0, float("inf"))
    vs_anchor = summaries[1] if len(summaries) > 1 else None
    elo_anchor = vs_anchor.elo() if vs_anchor is not None else None
    decision = gate(arena, vs_prev.wins, vs_prev.losses, vs_prev.draws) if arena.gating else "n/a"
    if arena.gating and decision == "continue":
        decision = "reject"  # the match ended without the gate being passed
    return Evaluation(generation, previous, vs_prev.wins, vs_prev.losses, vs_prev.draws, elo_prev[0], elo_prev[1],
                      elo_anchor[0] if elo_anchor else None, elo_anchor[1] if elo_anchor else None, decision,
                      anchor.name, *((vs_anchor.wins, vs_anchor.losses, vs_anchor.draws) if vs_anchor else (0, 0, 0)))


def elo_history_path(run: RunDir) -> Path:
    return run.root / "arena" / "training_elo.json"


def record_and_plot(run: RunDir, evaluation: Evaluation) -> dict:
    """Append ``evaluation`` to the run's Elo history and redraw ``arena/training_elo.png``. The entry
    adds the chained Elo ``elo_chain`` (through the matches vs the previous evaluated generation,
    generation 0 = 0 Elo) and ``ci_chain``, its 95% half-width: the links' half-widths combined
    as independent errors, so it only grows."""
    from alphazero.atomic_io import write_bytes_atomic

    result = evaluation.to_dict()
    path = elo_history_path(run)
    history = json.loads(path.read_text()) if path.exists() else []
    history = [h for h in history if h["generation"] != result["generation"]]
    chained = {0: (0.0, 0.0), **{h["generation"]: (h["elo_chain"], h.get("ci_chain", math.inf)) for h in history}}
    base, base_ci = chained.get(result["previous"], (0.0, math.inf))
    entry = {**result, "elo_chain": base + result["elo_vs_previous"], "ci_chain": math.hypot(base_ci, result["ci_vs_previous"])}
    history.append(entry)
    history.sort(key=lambda h: h["generation"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, json.dumps(history, indent=1).encode())
    _plot(history, run.root / "arena" / "training_elo.png")
    return entry


PLOT_CI_CAP = 2000.0  # error bars drawn at most this long (an interval of a handful of games is huge)


def _plot(history: list[dict], path: Path) -> None:
    """The anchored Elo with its 95% error bars is the main line; the chained Elo, its band
    growing with every link, is drawn faintly for comparison."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from alphazero.atomic_io import atomic_writer

    fig = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    anchored = [h for h in history if h.get("elo_vs_anchor") is not None]
    anchor = next((h.get("anchor") for h in anchored if h.get("anchor")), "the anchor")
    if anchored:
        ax.errorbar([h["generation"] for h in anchored], [h["elo_vs_anchor"] for h in anchored],
                    yerr=[min(h["ci_vs_anchor"], PLOT_CI_CAP) for h in anchored], marker="s", capsize=3, linewidth=2,
                    label=f"Elo vs {anchor} (= 0), 95% interval", zorder=3)
    gens = [0] + [h["generation"] for h in history]
    chain = [0.0] + [h["elo_chain"] for h in history]
    band = [0.0] + [min(h.get("ci_chain", math.inf), PLOT_CI_CAP) for h in history]
    ax.plot(gens, chain, linestyle="--", color="grey", alpha=0.7, label="chained vs generation 0 (errors add up)")
    ax.fill_between(gens, [c - b for c, b in zip(chain, band)], [c + b for c, b in zip(chain, band)], color="grey", alpha=0.12)
    ax.set_xlabel("generation")
    ax.set_ylabel("Elo")
    ax.set_title(f"Evaluation during training (anchor {anchor} = 0 Elo)" if anchored else "Evaluation during training (no anchor games)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    with atomic_writer(path) as f:
        fig.savefig(f, format="png")
