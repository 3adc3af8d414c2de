"""The IDA meter: per generation, how much search amplifies the network, how closely the network
distils its own search, how much each generation gains, and whether the loop reached a fixed point.

- amplification gain  = Elo(mcts-g) - Elo(raw-g), both from the gauntlet's rating list; mcts-g
  searches with the amplifier that produced g's training targets: the run's self-play search
  (``config.json``: PUCT or Gumbel, its constants, its simulations) without root noise;
- generation gain     = Elo(raw-g) - Elo(raw-p), p the previous rated generation;
- distillation gap    = on generation g's own self-play games (played after g was published, so
  never trained on by g): mean KL(search policy || network policy) over full-search positions, and
  the mean squared error of the network's value against the game outcome (side to move's view).

Error bars: Elo differences combine the two players' 95% half-widths as if independent (players
rated through common opponents are positively correlated, so this overstates the error); the gap's
intervals treat games, not positions, as the independent samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alphazero.arena.gauntlet import mcts_name, raw_name
from alphazero.arena.ratings import Rating
from alphazero.game_record import GameRecord, GameRecordError, side_to_move_targets


@dataclass(frozen=True)
class Estimate:
    value: float
    ci95: float  # half-width of the 95% interval

    def text(self, digits: int = 0) -> str:
        return f"{self.value:+.{digits}f} +- {self.ci95:.{digits}f}"


@dataclass(frozen=True)
class DistillationGap:
    kl: Estimate  # nats per full-search position
    value_mse: Estimate  # (network value - outcome)^2, values in [-1, 1]
    positions: int  # full-search positions in the KL
    games: int


@dataclass(frozen=True)
class GenerationMeter:
    generation: int
    raw: Estimate | None
    mcts: Estimate | None
    amplification: Estimate | None
    generation_gain: Estimate | None
    gap: DistillationGap | None


@dataclass(frozen=True)
class Verdict:
    reached: bool
    reason: str


def _difference(a: Rating | None, b: Rating | None) -> Estimate | None:
    if a is None or b is None:
        return None
    return Estimate(a.elo - b.elo, math.hypot(a.ci95, b.ci95))


def _mean_ci(per_game: list[float]) -> Estimate:
    x = np.asarray(per_game, np.float64)
    if x.size < 2:
        return Estimate(float(x.mean()) if x.size else math.nan, math.inf)
    return Estimate(float(x.mean()), float(1.96 * x.std(ddof=1) / math.sqrt(x.size)))


def distillation_gap(evaluator, records: list[GameRecord], max_positions: int = 4096) -> DistillationGap | None:
    """KL(search target || network policy) over full-search positions and value MSE against the
    outcome, per game then averaged over games. The network policy is the softmax over all
    actions (unmasked, as the learner's cross-entropy sees it). None when no positions."""
    kl_games: list[float] = []
    mse_games: list[float] = []
    positions = 0
    used = 0
    for record in records:
        if used >= max_positions:
            break
        planes = record.planes()  # [T, C, n, n]
        t = planes.shape[0]
        legal = np.ones((t, record.policy.shape[1]), np.bool_)  # [T, A]: no masking, as in training
        logits, value, _ = evaluator(planes, legal)
        logits = logits.astype(np.float64)
        log_q = logits - logits.max(axis=1, keepdims=True)
        log_q -= np.log(np.exp(log_q).sum(axis=1, keepdims=True))  # [T, A] log softmax
        p = record.policy.astype(np.float64)  # [T, A]
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_rows = np.where(p > 0, p * (np.log(p) - log_q), 0.0).sum(axis=1)  # [T]
        wdl = side_to_move_targets(record.to_play, record.outcome, record.final_score, record.final_ownership)["value_wdl"]
        z = wdl[:, 0] - wdl[:, 1]  # [T] +1 the mover won, -1 lost, 0 draw
        mse_games.append(float(np.mean((value.astype(np.float64) - z) ** 2)))
        full = record.full_search
        if full.any():
            kl_games.append(float(kl_rows[full].mean()))
            positions += int(full.sum())
        used += t
    if not kl_games:
        return None
    return DistillationGap(_mean_ci(kl_games), _mean_ci(mse_games), positions, len(mse_games))


def records_by_generation(replay_dir: Path, max_files: int = 400, heldout_dir: Path | None = None) -> dict[int, list[GameRecord]]:
    """The newest ``max_files`` game records of a replay folder (``*.npz``, names sort by age) and
    every record kept in ``heldout_dir/<generation>/``, grouped by the model version that played
    them (duplicates by game id dropped); unreadable files are skipped."""
    files = sorted(p for p in Path(replay_dir).glob("*.npz") if not p.name.startswith("."))[-max_files:] if Path(replay_dir).is_dir() else []
    if heldout_dir is not None and Path(heldout_dir).is_dir():
        files += sorted(p for p in Path(heldout_dir).glob("*/*.npz") if not p.name.startswith("."))
    out: dict[int, list[GameRecord]] = {}
    seen: set[str] = set()
    for path in files:
        try:
            record = GameRecord.load_npz(path)
        except GameRecordError:
            continue
        if record.game_id in seen:
            continue
        seen.add(record.game_id)
        out.setdefault(int(record.model_version), []).append(record)
    return out


def meter_rows(generations: list[int], ratings: dict[str, Rating], gaps: dict[int, DistillationGap]) -> list[GenerationMeter]:
    rows = []
    for i, g in enumerate(generations):
        raw, mcts = ratings.get(raw_name(g)), ratings.get(mcts_name(g))
        previous = ratings.get(raw_name(generations[i - 1])) if i > 0 else None
        rows.append(GenerationMeter(
            g,
            Estimate(raw.elo, raw.ci95) if raw else None,
            Estimate(mcts.elo, mcts.ci95) if mcts else None,
            _difference(mcts, raw),
            _difference(raw, previous),
            gaps.get(g),
        ))
    return rows


def fixed_point_reached(generation_gains: list[Estimate | None], gaps: list[Estimate | None], window: int = 3,
                        elo_tolerance: float = 20.0, gap_tolerance: float = 0.02, max_elo_ci: float = 150.0) -> Verdict:
    """Fixed point: over the last ``window`` generations, (1) no generation gained: every gain is
    within its error bar of 0 or within ``elo_tolerance``, and the error bars are informative
    (at most ``max_elo_ci``); (2) the distillation gap (KL) stopped moving: its change across the
    window is within ``gap_tolerance`` nats or within the combined error bars."""
    gains = [g for g in generation_gains if g is not None][-window:]
    kls = [k for k in gaps if k is not None][-window:]
    if len(gains) < window or len(kls) < window:
        return Verdict(False, f"not enough data: need {window} generation gains and distillation gaps, "
                              f"have {len(gains)} and {len(kls)}")
    noisy = [g for g in gains if g.ci95 > max_elo_ci]
    if noisy:
        return Verdict(False, f"generation gains too noisy to call (95% half-width up to {max(g.ci95 for g in noisy):.0f} Elo "
                              f"> {max_elo_ci:.0f}): play more gauntlet games")
    moving = [g for g in gains if abs(g.value) > max(g.ci95, elo_tolerance)]
    if moving:
        return Verdict(False, f"still improving: generation gain {moving[-1].text()} Elo is outside its error bar "
                              f"and the {elo_tolerance:.0f} Elo tolerance")
    change = kls[-1].value - kls[0].value
    allowed = max(gap_tolerance, math.hypot(kls[-1].ci95, kls[0].ci95))
    if abs(change) > allowed:
        return Verdict(False, f"distillation gap still moving: KL changed by {change:+.3f} nats over the last {window} "
                              f"generations (allowed {allowed:.3f})")
    return Verdict(True, f"fixed point: the last {window} generation gains are flat (within error bars or "
                         f"{elo_tolerance:.0f} Elo) and the distillation gap moved {change:+.3f} nats (within {allowed:.3f})")


def verdict_for(rows: list[GenerationMeter], **kwargs) -> Verdict:
    return fixed_point_reached([r.generation_gain for r in rows], [r.gap.kl if r.gap else None for r in rows], **kwargs)


def summary_text(rows: list[GenerationMeter], verdict: Verdict) -> str:
    def cell(e: Estimate | None, digits: int = 0) -> str:
        return e.text(digits) if e is not None and math.isfinite(e.ci95) else (f"{e.value:+.{digits}f}" if e else "-")

    lines = ["IDA meter (Elo from the gauntlet; KL in nats on each generation's own self-play games)",
             f"{'gen':>5}  {'amplification':>16}  {'generation gain':>16}  {'KL(search||net)':>16}  {'value MSE':>14}"]
    for r in rows:
        lines.append(f"{r.generation:>5}  {cell(r.amplification):>16}  {cell(r.generation_gain):>16}  "
                     f"{cell(r.gap.kl if r.gap else None, 3):>16}  {cell(r.gap.value_mse if r.gap else None, 3):>14}")
    lines.append(("Fixed point reached: " if verdict.reached else "Not at a fixed point: ") + verdict.reason)
    return "\n".join(lines)
