"""Search and self-play configs: PUCT constants, root noise, Gumbel root search, playout caps, temperature, resignation, the rules mix."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from alphazero.config.base import ConfigBase, ConfigError, require
from go_engine.rules import Rules, parse_rules_name, preset


@dataclass(frozen=True)
class SearchConfig(ConfigBase):
    """How one batched MCTS runs (see ``selfplay.mcts``). Values are in [-1, 1]: P(win) - P(loss);
    with a score utility the search's utility adds up to the two factors' sum (see
    static_score_utility_factor)."""

    simulations: int = 200
    """Simulations of a full search (one evaluator call per simulation step across all games)."""
    c_puct_init: float = 1.25
    """PUCT exploration constant at low visit counts: c = c_puct_init + log((N + c_puct_base + 1) / c_puct_base)."""
    c_puct_base: float = 19652.0
    """Visit scale of the logarithmic growth of the exploration constant (AlphaZero's 19652)."""
    fpu_reduction: float = 0.25
    """First-play urgency below the root: an unvisited child's Q is the parent's Q minus
    fpu_reduction * sqrt(sum of the priors of the visited children)."""
    fpu_reduction_root: float = 0.0
    """First-play urgency reduction at the root (KataGo uses 0 at a noised self-play root)."""
    dirichlet_alpha_scale: float = 10.83
    """Root Dirichlet noise concentration times the number of legal moves: alpha = scale / legal
    moves, so 10.83 gives alpha 0.03 on an empty 19x19 board (AlphaZero) and 0.13 on 9x9."""
    dirichlet_epsilon: float = 0.25
    """Weight of the Dirichlet noise in the root priors of full self-play searches; 0 disables noise."""
    gumbel: bool = False
    """Gumbel root search (Danihelka et al. 2022): Gumbel top-k sampling plus sequential halving at
    the root, the completed-Q improved policy as the target, deterministic interior selection.
    Replaces Dirichlet noise, forced playouts and temperature; learns with 8-16 simulations."""
    gumbel_considered: int = 16
    """Root actions sampled without replacement (m) for sequential halving."""
    gumbel_c_visit: float = 50.0
    """sigma(q) = (gumbel_c_visit + max visits) * gumbel_c_scale * q, q min-max rescaled to [0, 1]."""
    gumbel_c_scale: float = 0.1
    """Scale of sigma(q) (see gumbel_c_visit)."""
    forced_playouts_k: float = 2.0
    """KataGo forced playouts at a noised root: a child with prior P gets at least
    sqrt(k * P * total root visits) visits; 0 disables them."""
    prune_forced_playouts: bool = True
    """Remove forced playouts from the policy target afterwards (KataGo's policy-target pruning)."""
    tree_reuse: bool = True
    """PUCT search: keep the subtree of the played move as the next root (Gumbel search: see
    gumbel_tree_reuse)."""
    gumbel_tree_reuse: bool = False
    """Gumbel search: keep the subtree of the played move (its visits, values, priors and children)
    as the next root. Each search there draws fresh Gumbel noise and runs `simulations` new
    simulations; sequential halving counts the reused visits toward its per-level visit targets
    (its schedule is planned for the root's visits after the search), so the new simulations top
    the considered actions up; the improved-policy target uses all visits. Off until a learning
    curve shows it helps."""
    tree_capacity_factor: float = 2.0
    """Nodes allocated per tree, as a multiple of simulations (+1), when the tree is reused. A reused subtree is truncated (in
    creation order, so it stays a tree) to leave room for the next search."""
    lcb_z: float = 1.96
    """Play (not self-play) chooses the child with the best lower confidence bound Q - z * stderr."""
    lcb_min_visit_fraction: float = 0.1
    """Only children with at least this fraction of the most-visited child's visits are LCB candidates."""
    static_score_utility_factor: float = 0.0
    """Score utility (KataGo's staticScoreUtilityFactor), 0 = off: the search backs up a utility,
    the win/loss value plus this times (2/pi) atan(lead / (2 sqrt(board area))), lead the score
    head's points for the side to move (the rules' count at a finished game), plus the dynamic
    term (dynamic_score_utility_factor), so the search keeps preferring bigger wins once the game
    is decided. PUCT, Gumbel's completed Q, LCB and the policy target see the utility; the win
    rates reported, resignation and the value target stay win/loss. KataGo plays with 0.1 (its
    gtp_example.cfg) and self-plays with 0 (selfplay1.cfg). Needs a network with a score head."""
    dynamic_score_utility_factor: float = 0.0
    """Score utility (KataGo's dynamicScoreUtilityFactor), 0 = off: the utility adds this times
    (2/pi) atan((lead - center) / (dynamic_score_center_scale * sqrt(board area))), the center being
    the root's score estimate when the search of the move starts (the root's network score, or the
    kept subtree's mean score with tree reuse) moved toward 0 by dynamic_score_center_zero_weight:
    most sensitive to score changes near the expected result. KataGo: 0.3 in play, 0.4 in self-play."""
    dynamic_score_center_scale: float = 0.75
    """Width of the dynamic score term in units of sqrt(board area) (KataGo's dynamicScoreCenterScale:
    0.75 in play, 0.5 in self-play); also the most the center may move from the root's estimate."""
    dynamic_score_center_zero_weight: float = 0.2
    """Fraction of the way the dynamic center moves from the root's score estimate toward 0 (KataGo's
    dynamicScoreCenterZeroWeight: 0.2 in play, 0.25 in self-play), capped at one dynamic_score_center_scale."""

    def validate(self) -> None:
        require(1 <= self.simulations <= 1_000_000, f"simulations must be in [1, 1000000], got {self.simulations}")
        require(0.0 <= self.c_puct_init <= 100.0, f"c_puct_init must be in [0, 100], got {self.c_puct_init}")
        require(self.c_puct_base > 0.0, f"c_puct_base must be > 0, got {self.c_puct_base}")
        require(0.0 <= self.fpu_reduction <= 2.0, f"fpu_reduction must be in [0, 2], got {self.fpu_reduction}")
        require(0.0 <= self.fpu_reduction_root <= 2.0, f"fpu_reduction_root must be in [0, 2], got {self.fpu_reduction_root}")
        require(0.0 < self.dirichlet_alpha_scale <= 1000.0, f"dirichlet_alpha_scale must be in (0, 1000], got {self.dirichlet_alpha_scale}")
        require(0.0 <= self.dirichlet_epsilon <= 1.0, f"dirichlet_epsilon must be in [0, 1], got {self.dirichlet_epsilon}")
        require(1 <= self.gumbel_considered <= 362, f"gumbel_considered must be in [1, 362], got {self.gumbel_considered}")
        require(self.gumbel_c_visit >= 0.0, f"gumbel_c_visit must be >= 0, got {self.gumbel_c_visit}")
        require(self.gumbel_c_scale > 0.0, f"gumbel_c_scale must be > 0, got {self.gumbel_c_scale}")
        require(0.0 <= self.forced_playouts_k <= 100.0, f"forced_playouts_k must be in [0, 100], got {self.forced_playouts_k}")
        require(1.0 <= self.tree_capacity_factor <= 64.0, f"tree_capacity_factor must be in [1, 64], got {self.tree_capacity_factor}")
        require(self.lcb_z >= 0.0, f"lcb_z must be >= 0, got {self.lcb_z}")
        require(0.0 <= self.lcb_min_visit_fraction <= 1.0, f"lcb_min_visit_fraction must be in [0, 1], got {self.lcb_min_visit_fraction}")
        require(0.0 <= self.static_score_utility_factor <= 1.0, f"static_score_utility_factor must be in [0, 1], got {self.static_score_utility_factor}")
        require(0.0 <= self.dynamic_score_utility_factor <= 1.0, f"dynamic_score_utility_factor must be in [0, 1], got {self.dynamic_score_utility_factor}")
        require(0.0 < self.dynamic_score_center_scale <= 5.0, f"dynamic_score_center_scale must be in (0, 5], got {self.dynamic_score_center_scale}")
        require(0.0 <= self.dynamic_score_center_zero_weight <= 1.0, f"dynamic_score_center_zero_weight must be in [0, 1], got {self.dynamic_score_center_zero_weight}")

    def capacity(self, simulations: int | None = None) -> int:
        """Tree nodes to allocate for searches of up to ``simulations`` (default: a full search)."""
        sims = self.simulations if simulations is None else simulations
        factor = self.tree_capacity_factor if self.reuses_tree else 1.0
        return int(math.ceil(factor * sims)) + 1

    @property
    def uses_score_utility(self) -> bool:
        """The search backs up win/loss value + score utility (a score utility factor is above 0)."""
        return self.static_score_utility_factor > 0.0 or self.dynamic_score_utility_factor > 0.0

    def with_score_utility_of(self, other: "SearchConfig") -> "SearchConfig":
        """This config with ``other``'s score utility fields (a run's, for a player with its own search)."""
        return replace(self, **{name: getattr(other, name) for name in SCORE_UTILITY_FIELDS})

    @property
    def reuses_tree(self) -> bool:
        """The played move's subtree becomes the next root (tree_reuse for PUCT, gumbel_tree_reuse for Gumbel)."""
        return self.gumbel_tree_reuse if self.gumbel else self.tree_reuse


SCORE_UTILITY_FIELDS = ("static_score_utility_factor", "dynamic_score_utility_factor", "dynamic_score_center_scale",
                        "dynamic_score_center_zero_weight")


@dataclass(frozen=True)
class SelfPlayConfig(ConfigBase):
    """How self-play games are driven (see ``selfplay.game_driver``)."""

    games_in_parallel: int = 64
    """B: games searched together; one batched evaluator call per simulation step covers all of them."""
    full_search_probability: float = 0.25
    """Playout-cap randomisation (KataGo): the fraction of moves that get a full search (with noise)
    and are recorded as policy targets; 1 makes every search full."""
    cheap_simulations: int = 32
    """Simulations of a cheap search (no noise, not a policy target)."""
    temperature_early: float = 1.0
    """Visit-count temperature for the first temperature_moves moves of a game."""
    temperature_moves: int = 8
    """Moves played at temperature_early before the temperature starts to decay."""
    temperature_halflife: float = 10.0
    """After that, tau - temperature_final halves every this many moves."""
    temperature_final: float = 0.0
    """Temperature approached late in the game; tau below 0.01 plays the most visited move."""
    resign_threshold: float = -0.9
    """Resign when the root value (side to move's view) stays below this for resign_consecutive own moves."""
    resign_consecutive: int = 3
    """Consecutive own moves below resign_threshold before resigning."""
    no_resign_fraction: float = 0.1
    """Fraction of games that never resign; they measure how often resigning would have been wrong."""
    resign_enabled: bool = True
    """False: no game resigns (all games still record would-be false positives)."""
    max_game_moves: int = 0
    """Stop a game (counted by its rules, as at two passes) after this many moves; 0 uses the rules' cap."""
    rules_mix: tuple[str, ...] = ()
    """Rules each self-play game draws, as ``"preset:weight"`` entries (e.g. ``["japanese:1",
    "chinese:1"]``: half the games each; a bare ``"japanese"`` weighs 1): a game takes the drawn
    preset's ko, suicide, scoring, tax and handicap bonus, and the run's ``rules`` komi and move
    cap. Empty: every game is played under the run's ``rules``. Rules are input planes (feature
    version 2), so one network learns every rule set of the mix."""
    eval_cache_size: int = 0
    """Positions each self-play actor keeps in its evaluation cache (``alphazero.eval_cache``): a
    leaf whose exact network input (planes with their history and ko plane, legal mask) was
    evaluated before with the same weights is answered from the cache instead of the network;
    about (A + n*n + 2) * 4 bytes each (700 on 9x9). 0 = no cache."""

    def validate(self) -> None:
        require(1 <= self.games_in_parallel <= 65536, f"games_in_parallel must be in [1, 65536], got {self.games_in_parallel}")
        require(0.0 <= self.full_search_probability <= 1.0, f"full_search_probability must be in [0, 1], got {self.full_search_probability}")
        require(1 <= self.cheap_simulations <= 1_000_000, f"cheap_simulations must be in [1, 1000000], got {self.cheap_simulations}")
        require(0.0 <= self.temperature_early <= 10.0, f"temperature_early must be in [0, 10], got {self.temperature_early}")
        require(self.temperature_moves >= 0, f"temperature_moves must be >= 0, got {self.temperature_moves}")
        require(self.temperature_halflife > 0.0, f"temperature_halflife must be > 0, got {self.temperature_halflife}")
        require(0.0 <= self.temperature_final <= 10.0, f"temperature_final must be in [0, 10], got {self.temperature_final}")
        require(-1.0 <= self.resign_threshold <= 1.0, f"resign_threshold must be in [-1, 1], got {self.resign_threshold}")
        require(self.resign_consecutive >= 1, f"resign_consecutive must be >= 1, got {self.resign_consecutive}")
        require(0.0 <= self.no_resign_fraction <= 1.0, f"no_resign_fraction must be in [0, 1], got {self.no_resign_fraction}")
        require(self.max_game_moves >= 0, f"max_game_moves must be >= 0, got {self.max_game_moves}")
        require(0 <= self.eval_cache_size <= 1 << 26, f"eval_cache_size must be in [0, {1 << 26}], got {self.eval_cache_size}")
        self.rules_weights()

    def game_rules(self, rules: Rules) -> tuple[list[Rules], np.ndarray]:
        """The rule sets a game draws from (each ``rules_mix`` preset with ``rules``' komi and move
        cap) and their probabilities ``[R] float64``; just ``rules`` when the mix is empty."""
        mix = self.rules_weights()
        if not mix:
            return [rules], np.ones(1)
        choices = [replace(preset(name), komi=rules.komi, max_moves=rules.max_moves) for name, _ in mix]
        weights = np.array([w for _, w in mix], np.float64)
        return choices, weights / weights.sum()

    def rules_weights(self) -> tuple[tuple[str, float], ...]:
        """``rules_mix`` parsed: (preset name, weight) pairs, weights > 0; ConfigError names a bad entry."""
        out = []
        for i, entry in enumerate(self.rules_mix):
            require(isinstance(entry, str), f"rules_mix[{i}] must be a string \"preset:weight\", got {entry!r}")
            name, _, weight = entry.partition(":")
            try:
                preset = parse_rules_name(name)
            except ValueError as e:
                raise ConfigError(f"rules_mix[{i}]: {e}") from None
            try:
                w = float(weight) if weight.strip() else 1.0
            except ValueError:
                raise ConfigError(f"rules_mix[{i}]: weight {weight!r} is not a number") from None
            require(math.isfinite(w) and w > 0.0, f"rules_mix[{i}]: weight must be a positive number, got {weight!r}")
            out.append((preset, w))
        return tuple(out)

    def temperature(self, move_number: int) -> float:
        """tau for the move with this 0-based number (the schedule described by the fields)."""
        if move_number < self.temperature_moves:
            return self.temperature_early
        decay = 0.5 ** ((move_number - self.temperature_moves) / self.temperature_halflife)
        return self.temperature_final + (self.temperature_early - self.temperature_final) * decay
