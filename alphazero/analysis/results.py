"""Result lines of the analysis engine in KataGo's shapes (``moveInfos``, ``rootInfo``,
``ownership``, ``policy``), from one row of a batched search.

Values come out of the search from the root's side to move's view and are flipped here to the
query's perspective (``reportAnalysisWinratesAs``): winrate, lcb, utility, utilityLcb, the scores
and ownership flip; prior, policy, visits and the stdevs do not. Arrays are row-major from the
top-left with pass last (our action order already).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from go_engine import board as B
from go_engine import coords
from go_engine import symmetry
from selfplay.mcts import BatchedMCTS
from selfplay.tree import ROOT, child_visits, win_loss_arrays

MAX_MOVE_INFOS = 64  # candidate moves listed (the most visited); KataGo lists every visited one


def flips(perspective: str, to_play: int) -> bool:
    """Whether side-to-move values must be negated for ``perspective``."""
    return (perspective == "BLACK" and to_play == B.WHITE) or (perspective == "WHITE" and to_play == B.BLACK)


def position_hashes(state: B.BoardState, rules) -> tuple[str, str]:
    """(thisHash, symHash), 32 hex digits each: the situation (stones, side to move, ko point,
    komi, ko/suicide rules), and the smallest stones+side hash over the 8 symmetries."""
    n = state.size
    stones = state.board[0, coords.action_points(n)].astype(np.int8).reshape(n, n)  # [n, n]
    side = bytes([int(state.to_play[0])])
    situation = stones.tobytes() + side + int(state.ko_point[0]).to_bytes(2, "little", signed=True) + \
        f"{float(state.komi[0])}:{int(rules.ko)}:{int(rules.suicide)}".encode()
    this = hashlib.blake2b(situation, digest_size=16).hexdigest().upper()
    sym = min(hashlib.blake2b(symmetry.transform_planes(stones[None], s)[0].tobytes() + side, digest_size=16).hexdigest().upper()
              for s in range(symmetry.NUM_SYMMETRIES))
    return this, sym


def _round6(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) + 0.0 for v in np.asarray(values, np.float64)]


def principal_variation(mcts: BatchedMCTS, b: int, first: int, max_len: int) -> tuple[list[int], list[int]]:
    """(the most visited line from the root's ``first``, the visits of each node on it)."""
    t = mcts.tree
    pv = [first]
    node = int(t.children[b, ROOT, first])
    visits = [int(t.visits[b, node]) if node >= 0 else 0]
    while node >= 0 and t.expanded[b, node] and len(pv) < max_len:
        cv = child_visits(t, b, node)
        if cv.max() <= 0:
            break
        a = int(np.argmax(cv))
        pv.append(a)
        visits.append(int(cv[a]))
        node = int(t.children[b, node, a])
    return pv, visits


def _in_perspective(winrate: float, sign: float) -> float:
    """A side-to-move winrate in the query's perspective (``sign`` -1: flipped)."""
    return winrate if sign > 0 else 1.0 - winrate


def _ranked_moves(mcts: BatchedMCTS, b: int, visits: np.ndarray) -> list[int]:
    """The visited root moves, the move the search plays (LCB) first, then by visits."""
    best = mcts.best_action_lcb(b) if visits.max() > 0 else -1
    ranked = [int(a) for a in np.argsort(-visits, kind="stable") if visits[a] > 0]
    if best in ranked:
        ranked.remove(best)
        ranked.insert(0, best)
    return ranked


def _move_info(query, mcts: BatchedMCTS, b: int, a: int, order: int, v: int, values, prior: np.ndarray,
               sign: float, lcb_z: float) -> dict:
    """The ``moveInfos`` entry of root move ``a`` (``v`` visits, ``order`` in the list)."""
    t = mcts.tree
    n = query.size
    win_loss = win_loss_arrays(t)[0]
    child = int(t.children[b, ROOT, a])
    mean = float(-t.value_sum[b, child] / v)  # root's view
    wl = float(-win_loss[b, child] / v)
    var = float(t.value_sq_sum[b, child]) / v - mean * mean if v > 1 else 1.0
    stderr = math.sqrt(max(var, 0.0) / v) if v > 1 else 1.0
    winrate = (1.0 + wl) / 2.0
    lcb = (1.0 + wl - lcb_z * stderr) / 2.0  # the utility's radius on the win rate (KataGo's getHackedLCBForWinrate)
    lead = -float(values.score_mean[child])
    pv, pv_visits = principal_variation(mcts, b, a, query.pv_len + 1)
    info = {
        "move": coords.action_to_gtp(a, n), "visits": v, "edgeVisits": v, "weight": float(v), "edgeWeight": float(v),
        "playSelectionValue": float(v), "utility": sign * mean, "winrate": _in_perspective(winrate, sign),
        "scoreMean": sign * lead, "scoreSelfplay": sign * lead, "scoreLead": sign * lead,
        "scoreStdev": float(values.score_stdev[child]), "prior": float(prior[a]),
        "lcb": _in_perspective(lcb, sign), "utilityLcb": sign * (2.0 * lcb - 1.0 + (mean - wl)), "order": order,
        "pv": [coords.action_to_gtp(x, n) for x in pv],
    }
    if query.outputs.pv_visits:
        info["pvVisits"] = pv_visits
        info["pvEdgeVisits"] = pv_visits
    if query.outputs.moves_ownership and values.ownership.shape[1]:
        info["ownership"] = _round6(-sign * values.ownership[child])
    if query.outputs.moves_ownership_stdev and values.ownership.shape[1]:
        info["ownershipStdev"] = _round6(values.ownership_stdev[child])
    return info


def _root_info(mcts: BatchedMCTS, b: int, values, sign: float, hashes: tuple[str, str]) -> dict:
    """The ``rootInfo`` object: the search's root and the network's raw estimates."""
    t = mcts.tree
    win_loss, raw_win_loss = win_loss_arrays(t)
    root_visits = int(t.visits[b, ROOT])
    root_mean = float(t.value_sum[b, ROOT] / max(root_visits, 1))
    root_wl = float(win_loss[b, ROOT] / max(root_visits, 1))
    lead = float(values.score_mean[ROOT])
    raw_value = float(raw_win_loss[b, ROOT])
    raw_lead = float(mcts.stats.score[b, ROOT])
    return {
        "visits": root_visits, "weight": float(root_visits), "winrate": _in_perspective((1.0 + root_wl) / 2.0, sign),
        "scoreSelfplay": sign * lead, "scoreLead": sign * lead, "scoreStdev": float(values.score_stdev[ROOT]),
        "utility": sign * root_mean, "currentPlayer": "B" if int(mcts.roots.to_play[b]) == B.BLACK else "W",
        "thisHash": hashes[0], "symHash": hashes[1],
        "rawWinrate": _in_perspective((1.0 + raw_value) / 2.0, sign), "rawLead": sign * raw_lead,
        "rawScoreSelfplay": sign * raw_lead, "rawScoreSelfplayStdev": 0.0, "rawNoResultProb": 0.0,
    }


def result_json(query, turn: int, mcts: BatchedMCTS, b: int, raw_policy: np.ndarray | None, during: bool,
                lcb_z: float, hashes: tuple[str, str]) -> dict:
    """One result line for row ``b`` (its root holds the turn's position). Win rates are the
    win/loss values; utility (and its LCB) the search's (win/loss + score utility, if any)."""
    t = mcts.tree
    n = query.size
    sign = -1.0 if flips(query.perspective, int(mcts.roots.to_play[b])) else 1.0
    values = mcts.subtree_values(b)
    visits = child_visits(t, b)
    prior = raw_policy if raw_policy is not None else t.prior[b, ROOT]
    infos = [_move_info(query, mcts, b, a, order, int(visits[a]), values, prior, sign, lcb_z)
             for order, a in enumerate(_ranked_moves(mcts, b, visits)[:MAX_MOVE_INFOS])]
    out = {"id": query.id, "turnNumber": turn, "isDuringSearch": during, "moveInfos": infos,
           "rootInfo": _root_info(mcts, b, values, sign, hashes)}
    if query.outputs.ownership:
        out["ownership"] = _round6(sign * values.ownership[ROOT]) if values.ownership.shape[1] else [0.0] * (n * n)
    if query.outputs.ownership_stdev:
        out["ownershipStdev"] = _round6(values.ownership_stdev[ROOT]) if values.ownership.shape[1] else [0.0] * (n * n)
    if query.include_policy:
        legal = t.children[b, ROOT] != -2  # ILLEGAL
        out["policy"] = [float(p) if ok else -1.0 for p, ok in zip(prior, legal)]
    return out


def no_results(query_id: str, turn: int) -> dict:
    """The final line of a turn whose search never started (terminated while queued)."""
    return {"id": query_id, "turnNumber": turn, "isDuringSearch": False, "noResults": True}
