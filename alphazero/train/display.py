"""What a person watching a run sees: a live status line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _metric(learner, name: str) -> float | None:
    """A loss or diagnostic of the newest ``LearnerReport`` (None before the first one)."""
    return None if learner is None else learner.metric(name)


def _interval(ci: float) -> str:
    return f"+- {ci:.0f}" if ci < 10_000 else "+- inf"


def _anchored(evaluation: dict | None) -> str | None:
    if not evaluation or evaluation.get("elo_vs_anchor") is None:
        return None
    anchor = evaluation.get("anchor") or "anchor"
    return f"Elo vs {anchor} {evaluation['elo_vs_anchor']:+.0f} {_interval(evaluation['ci_vs_anchor'])}"


def anchored_elo_text(evaluation: dict | None) -> str | None:
    """``Elo vs random +412 +- 180 (g40)``: the newest evaluated generation against the fixed
    anchor, with its 95% interval; None when there is none yet (or no anchor games)."""
    text = _anchored(evaluation)
    return None if text is None else f"{text} (g{evaluation['generation']})"


def evaluation_text(evaluation: dict, gating: bool) -> str:
    """The log line of one evaluation: against the anchor first (the Elo that means something
    across generations), then against the previous evaluated generation."""
    e = evaluation
    parts = [f"evaluation of generation {e['generation']}:"]
    anchored = _anchored(e)
    if anchored is not None:
        parts.append(f"{anchored} (95%; {e.get('anchor_wins', 0)}-{e.get('anchor_losses', 0)}-{e.get('anchor_draws', 0)});")
    parts.append(f"{e['wins']}-{e['losses']}-{e['draws']} vs generation {e['previous']} "
                 f"(Elo {e['elo_vs_previous']:+.0f} {_interval(e['ci_vs_previous'])})"
                 + (f", gate: {e['decision']}" if gating else ""))
    return " ".join(parts)


class Display:
    """``quiet``: only one line per generation and the final message (for logs)."""

    def __init__(self, quiet: bool, interval: float, stream=None) -> None:
        self.quiet = quiet
        self.interval = interval
        self.stream = stream or sys.stderr
        self.live = (not quiet) and self.stream.isatty()
        self.started = time.monotonic()

    def _write(self, text: str, newline: bool = True) -> None:
        if self.live and not newline:
            self.stream.write("\r\x1b[2K" + text)
        else:
            if self.live:
                self.stream.write("\r\x1b[2K")
            self.stream.write(text + "\n")
        self.stream.flush()

    def update(self, counters, selfplay: dict, learner, loop_cfg, evaluation: dict | None = None,
               stage: str | None = None) -> None:
        """The live line; ``selfplay`` the window's summary, ``learner`` the newest ``LearnerReport``
        (or None), ``evaluation`` the newest evaluation entry (its anchored Elo is shown), ``stage``
        the board-size curriculum's stage (``7x7 (stage 1/2)``; None without a curriculum)."""
        if self.quiet:
            return
        elo = anchored_elo_text(evaluation)
        in_gen = counters.steps_since_publish / max(loop_cfg.train_steps_per_generation, 1)
        text = (
            (f"{stage} | " if stage else "")
            + f"gen {counters.generation} [{in_gen:4.0%}] | games {counters.games} "
            f"({_fmt(selfplay.get('games_per_hour'), '.0f')}/h) pos/s {_fmt(selfplay.get('positions_per_s'), '.0f')} "
            f"evals/s {_fmt(selfplay.get('evaluations_per_s'), '.0f')} len {_fmt(selfplay.get('game_length'), '.0f')} | "
            f"loss {_fmt(_metric(learner, 'loss/total'))} pol {_fmt(_metric(learner, 'loss/policy'))} "
            f"val {_fmt(_metric(learner, 'loss/value'))} | samples/pos {counters.samples_trained / max(counters.positions, 1):.2f}"
            + (f" | {elo}" if elo is not None else "")
        )
        self._write(text, newline=False)

    def generation(self, generation: int, counters, learner, elapsed: float, stage: str | None = None) -> None:
        self._write(
            f"generation {generation} published after {elapsed / 60:.1f} min: games {counters.games}, positions "
            f"{counters.positions}, samples trained {counters.samples_trained}, loss {_fmt(_metric(learner, 'loss/total'))}, "
            f"policy top-1 {_fmt(_metric(learner, 'policy_top1'))}" + (f", self-play {stage}" if stage else "")
        )

    def message(self, text: str) -> None:
        self._write(text)

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
