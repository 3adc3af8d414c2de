"""The progress plot of a run: Elo per generation (raw network and with search) above the IDA meter."""

from __future__ import annotations

import math
from pathlib import Path

from alphazero.arena.ida_meter import Estimate, GenerationMeter
from alphazero.atomic_io import atomic_writer


def _series(rows: list[GenerationMeter], pick) -> tuple[list[int], list[float], list[float]]:
    xs, ys, errs = [], [], []
    for r in rows:
        e: Estimate | None = pick(r)
        if e is not None and math.isfinite(e.value):
            xs.append(r.generation)
            ys.append(e.value)
            errs.append(e.ci95 if math.isfinite(e.ci95) else 0.0)
    return xs, ys, errs


def plot_progress(rows: list[GenerationMeter], path: str | Path, title: str = "", verdict: str = "") -> None:
    """Two panels into a PNG (Agg canvas, no GUI backend, written atomically): Elo vs generation
    with 95% error bars; amplification and generation gains (Elo) with the distillation KL."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(8, 8), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for label, pick, marker in (("raw network", lambda r: r.raw, "o"), ("mcts (self-play budget)", lambda r: r.mcts, "s")):
        xs, ys, errs = _series(rows, pick)
        top.errorbar(xs, ys, yerr=errs, marker=marker, capsize=3, label=label)
    top.set_ylabel("Elo (95% interval)")
    top.set_title(title or "Elo vs generation")
    top.grid(alpha=0.3)
    top.legend(loc="best")

    for label, pick, marker in (("amplification gain (mcts - raw)", lambda r: r.amplification, "^"),
                                ("generation gain (raw g - raw g-1)", lambda r: r.generation_gain, "v")):
        xs, ys, errs = _series(rows, pick)
        bottom.errorbar(xs, ys, yerr=errs, marker=marker, capsize=3, label=label)
    bottom.axhline(0.0, color="grey", linewidth=0.8)
    bottom.set_ylabel("Elo gain")
    bottom.set_xlabel("generation")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.grid(alpha=0.3)
    kl_axis = bottom.twinx()
    xs, ys, errs = _series(rows, lambda r: r.gap.kl if r.gap else None)
    kl_axis.errorbar(xs, ys, yerr=errs, marker="D", color="tab:red", capsize=3, linestyle="--", label="distillation gap KL(search||net)")
    kl_axis.set_ylabel("KL (nats)", color="tab:red")
    handles = bottom.get_legend_handles_labels()
    kl_handles = kl_axis.get_legend_handles_labels()
    bottom.legend(handles[0] + kl_handles[0], handles[1] + kl_handles[1], loc="best", fontsize=8)
    if verdict:
        fig.text(0.01, 0.005, verdict, fontsize=8, wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    with atomic_writer(path) as f:
        fig.savefig(f, format="png")
