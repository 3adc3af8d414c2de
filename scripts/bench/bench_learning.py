"""Learning curves: strength against wall time. Trains each config from zero for the same number
of minutes, one after the other on this machine, then plays the newest checkpoint at each
wall-clock mark against fixed anchors and writes a table, a JSON file and a PNG.

A change to the learning loop is accepted when it raises this curve at equal wall time beyond the
error bars. Example (the README's main job against its baseline)::

    alphazero bench learning --out docs/curves/cache --minutes 30 --marks 10,20,30 \\
        --config base=9x9-cpu --config 'cache=9x9-cpu selfplay.eval_cache_size=100000' \\
        --match gnugo:1@16 --games 40 --parallel 2

Out directory (re-running the same command resumes: finished trainings and games are kept, a
training that was killed continues from its run directory)::

    <out>/runs/<label>/        the training run of each config (``alphazero train`` run directory)
    <out>/matches/<label>/...  one arena match per (mark, anchor): SGFs and results.jsonl
    <out>/curves.json          configs, machine, and every point (minute -> generation -> score)
    <out>/curves.md            the table
    <out>/curves.png           strength (Elo vs each anchor, 95% interval) against minutes

Training runs in a child process (``alphazero train --quiet --wandb off``), so its wall time is
the user's: Ray start, numba compilation and in-training evaluation included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from alphazero.arena.match import GameSettings, MatchPlan, run_matches
from alphazero.arena.players import SpecError, parse_spec
from alphazero.atomic_io import write_bytes_atomic
from alphazero.config.base import ConfigError
from alphazero.config.run import RunConfig, load_config
from alphazero.train.metrics import read_metrics
from alphazero.train.run_dir import RunDir

CURVES_JSON = "curves.json"
CURVES_MD = "curves.md"
CURVES_PNG = "curves.png"
DONE_FILE = "learning-curve-done.json"
SCHEMA = 1
_LABEL = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")


@dataclass(frozen=True)
class CurveConfig:
    """One config to train: a label, a preset or TOML file, and ``key=value`` overrides."""

    label: str
    preset: str | None
    file: str | None
    overrides: tuple[str, ...]

    @staticmethod
    def parse(text: str) -> "CurveConfig":
        """``LABEL=SOURCE [key=value ...]``; SOURCE is a preset name, a ``.toml`` file, or
        ``PRESET+FILE.toml`` (the file's tables over that preset)."""
        label, sep, rest = text.partition("=")
        if not sep or not _LABEL.match(label.strip()):
            raise ConfigError(f"--config {text!r}: expected LABEL=PRESET|FILE.toml [key=value ...] with a LABEL of "
                              "letters, digits and _.+- (at most 40)")
        words = shlex.split(rest)
        if not words:
            raise ConfigError(f"--config {text!r}: no preset or TOML file after {label}=")
        source, overrides = words[0], tuple(words[1:])
        preset, file = None, None
        if "+" in source and source.endswith(".toml"):
            preset, file = source.split("+", 1)
        elif source.endswith(".toml"):
            file = source
        else:
            preset = source
        bad = [o for o in overrides if "=" not in o]
        if bad:
            raise ConfigError(f"--config {text!r}: overrides must be key=value, got {bad[0]!r}")
        return CurveConfig(label.strip(), preset, file, overrides)

    def resolve(self) -> RunConfig:
        return load_config(self.preset, self.file, list(self.overrides))

    def to_dict(self) -> dict:
        return {"label": self.label, "preset": self.preset, "file": self.file, "overrides": list(self.overrides)}


@dataclass(frozen=True)
class Anchor:
    """A fixed opponent and the search budget our checkpoint gets against it: random, a GNU Go
    level, any GTP engine, or a fixed checkpoint (``mcts:RUN/models/000034@16``, ``raw:...``),
    which sits between random and GNU Go level 1 where short 9x9 runs are (they beat random 100%
    and lose to level 1 100% for their first half hour on two cores)."""

    spec: str
    visits: int

    @staticmethod
    def parse(text: str) -> "Anchor":
        spec, sep, visits = text.rpartition("@")
        if not sep or not visits.isdigit() or int(visits) < 1:
            raise ConfigError(f"--match {text!r}: expected ANCHOR@VISITS, e.g. gnugo:1@16 or random@16")
        try:
            parse_spec(spec)  # a checkpoint anchor must exist and read back
        except SpecError as e:
            raise ConfigError(f"--match {text!r}: {e}") from None
        return Anchor(spec, int(visits))

    @property
    def key(self) -> str:
        """A file-name-safe name for this anchor and budget."""
        return re.sub(r"[^A-Za-z0-9_.+-]+", "_", self.spec)[:40] + f"-at{self.visits}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alphazero bench learning", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output directory (re-running the same command resumes)")
    parser.add_argument("--config", action="append", default=[], metavar="LABEL=SOURCE [k=v ...]",
                        help="a config to train (repeat for each curve): preset name, FILE.toml or PRESET+FILE.toml, "
                             "then overrides; quote it as one argument")
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock minutes of training per config")
    parser.add_argument("--marks", default=None, help="comma-separated minutes at which to measure (default: every "
                                                       "10 minutes and the end)")
    parser.add_argument("--match", action="append", default=[], metavar="ANCHOR@VISITS",
                        help="an anchor and our search budget against it (repeat), e.g. gnugo:1@16 gnugo:10@200")
    parser.add_argument("--games", type=int, default=40, help="games per (mark, anchor) match")
    parser.add_argument("--final-games", type=int, default=0, help="games at the last mark (default: --games)")
    parser.add_argument("--opening-moves", type=int, default=2, help="random opening moves shared by each pair of games")
    parser.add_argument("--parallel", type=int, default=2, help="games played at once")
    parser.add_argument("--include", action="append", default=[], metavar="CURVES.json",
                        help="earlier results to draw and tabulate beside these (no training or games)")
    parser.add_argument("--train-only", action="store_true", help="train (or finish training) every config, play no games")
    return parser.parse_args(argv)


def marks_from(text: str | None, minutes: float) -> list[float]:
    if text is None:
        marks = [float(m) for m in range(10, int(minutes) + 1, 10)]
        if not marks or marks[-1] < minutes:
            marks.append(minutes)
        return marks
    try:
        marks = sorted({float(m) for m in text.split(",") if m.strip()})
    except ValueError:
        raise ConfigError(f"--marks {text!r}: expected comma-separated minutes, e.g. 10,20,30") from None
    if not marks or marks[0] <= 0 or marks[-1] > minutes:
        raise ConfigError(f"--marks {text!r}: every mark must be in (0, --minutes={minutes:g}]")
    return marks


def machine() -> dict:
    """What the times were measured on (CPU model, cores), so curves from other machines are not mixed up."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "host": platform.node()}


# ---- training ----------------------------------------------------------------------------------


def train(config: CurveConfig, run_root: Path, minutes: float, log) -> None:
    """Train ``config`` from zero (or finish a killed run) for ``minutes`` of wall time in a child process."""
    done = run_root / DONE_FILE
    if done.exists():
        log(f"[{config.label}] trained already ({run_root})")
        return
    cmd = [sys.executable, "-m", "alphazero.cli", "train", "--quiet", "--wandb", "off", "--time-limit", f"{minutes:g}"]
    if RunDir(run_root).config_path.exists():
        cmd += ["--resume", str(run_root)]
    else:
        cmd += ["--run-dir", str(run_root)]
        if config.preset:
            cmd += ["--preset", config.preset]
        if config.file:
            cmd += ["--config", config.file]
        cmd += list(config.overrides)
    run_root.parent.mkdir(parents=True, exist_ok=True)
    log(f"[{config.label}] training {minutes:g} minutes: {shlex.join(cmd)}")
    start = time.monotonic()
    with open(run_root.parent / f"{config.label}.log", "ab") as out:
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise RuntimeError(f"training {config.label} exited with {code}; see {run_root.parent / (config.label + '.log')}")
    elapsed = run_elapsed_minutes(run_root)
    if elapsed + 0.05 < minutes:
        raise RuntimeError(f"training {config.label} stopped after {elapsed:.1f} of {minutes:g} minutes "
                           f"(max_generations reached?); raise loop.max_generations")
    write_bytes_atomic(done, json.dumps({"minutes": minutes, "session_s": time.monotonic() - start}).encode())


def generation_log(run_root: Path) -> list[dict]:
    """The run's ``generation`` metrics (generation, elapsed_s, games, positions, samples), in order."""
    return [r for r in read_metrics(RunDir(run_root).metrics_path) if r.get("kind") == "generation"]


def run_elapsed_minutes(run_root: Path) -> float:
    state = RunDir(run_root).read_run_state() or {}
    return float(state.get("elapsed_s", 0.0)) / 60.0


def generation_at(gens: list[dict], minute: float) -> dict:
    """The newest generation published by ``minute`` of wall time (generation 0 before any)."""
    best = {"generation": 0, "elapsed_s": 0.0, "games": 0, "positions": 0, "samples_trained": 0}
    for record in gens:
        if record["elapsed_s"] <= minute * 60.0 + 1e-6 and record["generation"] >= best["generation"]:
            best = record
    return best


# ---- matches -----------------------------------------------------------------------------------


def plan_matches(config: CurveConfig, run_root: Path, out: Path, marks: list[float], anchors: list[Anchor],
                 games: int, final_games: int, opening_moves: int) -> list[tuple[dict, MatchPlan]]:
    resolved = RunConfig.from_dict(json.loads(RunDir(run_root).config_path.read_text()))
    settings = GameSettings(resolved.board_size, resolved.rules, 0, opening_moves)
    gens = generation_log(run_root)
    planned = []
    for i, minute in enumerate(marks):
        at = generation_at(gens, minute)
        generation = int(at["generation"])
        for anchor in anchors:
            name = f"{config.label}-m{minute:g}-g{generation}"
            ours = parse_spec(f"{name}=mcts:{RunDir(run_root).model_dir(generation)}@{anchor.visits}")
            n = final_games if (i == len(marks) - 1 and final_games) else games
            plan = MatchPlan(ours, parse_spec(anchor.spec), n,
                             out / "matches" / config.label / f"m{minute:g}-g{generation}-vs-{anchor.key}",
                             settings, seed=1000 + i)
            point = {"config": config.label, "minute": minute, "generation": generation,
                     "games_played": int(at.get("games", 0)), "positions": int(at.get("positions", 0)),
                     "samples_trained": int(at.get("samples_trained", 0)), "anchor": anchor.spec,
                     "visits": anchor.visits}
            planned.append((point, plan))
    return planned


def score_point(point: dict, summary) -> dict:
    n = len(summary.results)
    elo = summary.elo()
    score = (summary.wins + 0.5 * summary.draws) / n if n else None
    return {**point, "wins": summary.wins, "losses": summary.losses, "draws": summary.draws, "games": n,
            "score": score, "elo": elo[0] if elo else None, "ci95": elo[1] if elo else None}


# ---- output ------------------------------------------------------------------------------------


def table(points: list[dict]) -> str:
    """Markdown: one row per (config, minute), one column per anchor: W-L-D, score, Elo +- 95%."""
    anchors = sorted({(p["anchor"], p["visits"]) for p in points}, key=str)
    rows = sorted({(p["config"], p["minute"]) for p in points}, key=lambda r: (r[0], r[1]))
    by = {(p["config"], p["minute"], p["anchor"], p["visits"]): p for p in points}
    head = ["config", "minute", "generation", "games"] + [f"vs {a} ({v} visits)" for a, v in anchors]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for config, minute in rows:
        some = next(by[(config, minute, a, v)] for a, v in anchors if (config, minute, a, v) in by)
        cells = [config, f"{minute:g}", str(some["generation"]), f"{some['games_played']:,}"]
        for a, v in anchors:
            p = by.get((config, minute, a, v))
            if p is None or not p["games"]:
                cells.append("-")
            else:
                cells.append(f"{p['wins']}-{p['losses']}-{p['draws']} ({100 * p['score']:.0f}%), "
                             f"Elo {p['elo']:+.0f} +- {p['ci95']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(points: list[dict], path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from alphazero.atomic_io import atomic_writer

    anchors = sorted({(p["anchor"], p["visits"]) for p in points}, key=str)
    fig = Figure(figsize=(6.5 * max(1, len(anchors)), 4.5), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, max(1, len(anchors)), squeeze=False)[0]
    for ax, (anchor, visits) in zip(axes, anchors):
        for config in sorted({p["config"] for p in points}):
            line = sorted((p for p in points if p["config"] == config and p["anchor"] == anchor
                           and p["visits"] == visits and p["games"]), key=lambda p: p["minute"])
            if line:
                ax.errorbar([p["minute"] for p in line], [p["elo"] for p in line],
                            yerr=[min(p["ci95"], 1000.0) for p in line], marker="o", capsize=3, label=config)
        ax.axhline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("wall-clock minutes of training")
        ax.set_ylabel(f"Elo vs {anchor} (95%)")
        ax.set_title(f"{title}: vs {anchor}, {visits} visits")
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    fig.tight_layout()
    with atomic_writer(path) as f:
        fig.savefig(f, format="png")


def write_outputs(out: Path, payload: dict, extra_points: list[dict]) -> str:
    points = payload["points"] + extra_points
    text = table(points)
    write_bytes_atomic(out / CURVES_JSON, json.dumps(payload, indent=1).encode())
    header = f"Learning curves ({payload['machine']['cpu']}, {payload['machine']['cores']} cores, " \
             f"{payload['minutes']:g} minutes per config)\n\n"
    write_bytes_atomic(out / CURVES_MD, (header + text).encode())
    if any(p["games"] for p in points):
        plot(points, out / CURVES_PNG, "learning curve")
    return text


def load_points(path: str) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"--include {path}: cannot read curves JSON: {e}") from None
    if data.get("schema") != SCHEMA or not isinstance(data.get("points"), list):
        raise ConfigError(f"--include {path}: not a learning-curve file of schema {SCHEMA}")
    return data["points"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        configs = [CurveConfig.parse(c) for c in args.config]
        labels = [c.label for c in configs]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"--config labels must differ, got {labels}")
        if not configs and not args.include:
            raise ConfigError("give at least one --config (or --include earlier results)")
        if not args.minutes > 0:
            raise ConfigError(f"--minutes must be > 0, got {args.minutes}")
        if args.games < 1 or args.final_games < 0 or args.parallel < 1:
            raise ConfigError("--games and --parallel must be >= 1, --final-games >= 0")
        marks = marks_from(args.marks, args.minutes)
        anchors = [Anchor.parse(m) for m in args.match]
        if configs and not anchors and not args.train_only:
            raise ConfigError("give at least one --match ANCHOR@VISITS (or --train-only)")
        for c in configs:
            c.resolve()  # refuse a wrong field before hours of training
        extra = [p for path in args.include for p in load_points(path)]
    except ConfigError as e:
        print(f"alphazero bench learning: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    for config in configs:
        train(config, out / "runs" / config.label, args.minutes, log)
    payload = {"schema": SCHEMA, "machine": machine(), "minutes": args.minutes, "marks": marks,
               "configs": [c.to_dict() for c in configs], "points": []}
    if args.train_only:
        return 0
    planned = []
    for config in configs:
        planned += plan_matches(config, out / "runs" / config.label, out, marks, anchors, args.games,
                                args.final_games, args.opening_moves)
    if planned:
        log(f"playing {len(planned)} matches, {sum(p.games for _, p in planned)} games, {args.parallel} at once")
        summaries = run_matches([plan for _, plan in planned], parallel=args.parallel, log=lambda text: None)
        payload["points"] = [score_point(point, summary) for (point, _), summary in zip(planned, summaries)]
    print(write_outputs(out, payload, extra), end="")
    log(f"wrote {out / CURVES_JSON}, {out / CURVES_MD}" + (f", {out / CURVES_PNG}" if (out / CURVES_PNG).exists() else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
