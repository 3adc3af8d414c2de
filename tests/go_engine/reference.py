"""Slow pure-Python Go rules (list board, flood fills, full position history): a test oracle only."""

from __future__ import annotations

EMPTY, BLACK, WHITE = 0, 1, 2

# Move statuses, named as in go_engine.board (the tests map between the two).
LEGAL, OCCUPIED, SUICIDE, KO, GAME_OVER = "legal", "occupied", "suicide", "ko", "game_over"


def other(color: int) -> int:
    return BLACK + WHITE - color


class RefGame:
    """One game on an ``n x n`` board indexed by action ``a = row * n + col`` (pass is ``n * n``).

    Nothing is incremental: chains and liberties come from a flood fill each time they are asked
    for, and superko compares against the list of every position seen so far.
    """

    def __init__(
        self,
        n: int,
        ko: str = "positional",
        suicide_allowed: bool = False,
        komi: float = 7.5,
        max_moves: int | None = None,
        black=(),
        white=(),
        to_play: int = BLACK,
    ):
        if ko not in ("simple", "positional", "situational"):
            raise ValueError(f"unknown ko rule {ko!r}")
        self.n = n
        self.ko = ko
        self.suicide_allowed = suicide_allowed
        self.komi = komi
        self.max_moves = max_moves if max_moves is not None else 4 * n * n
        self.board = [EMPTY] * (n * n)
        for a in black:
            self.board[a] = BLACK
        for a in white:
            self.board[a] = WHITE
        for a in range(n * n):
            if self.board[a] != EMPTY and not self.chain(a)[1]:
                raise ValueError("setup position has a chain without liberties")
        self.to_play = to_play
        self.passes = 0
        self.num_moves = 0
        self.done = False
        self.ko_point: int | None = None  # the simple-ko point the side to move may not retake
        self.history: list = [self._key(self.board, to_play)]  # every position, in order
        self._seen = set(self.history)  # the same positions, for fast lookup

    # ---- geometry and chains -------------------------------------------------------------------

    def neighbours(self, a: int) -> list[int]:
        n = self.n
        r, c = divmod(a, n)
        out = []
        if r > 0:
            out.append(a - n)
        if c > 0:
            out.append(a - 1)
        if c < n - 1:
            out.append(a + 1)
        if r < n - 1:
            out.append(a + n)
        return out

    def chain(self, a: int, board: list[int] | None = None) -> tuple[set[int], set[int]]:
        """(stones, liberties) of the chain through stone ``a``, by flood fill."""
        board = self.board if board is None else board
        color = board[a]
        stones, libs, todo = {a}, set(), [a]
        while todo:
            q = todo.pop()
            for r in self.neighbours(q):
                if board[r] == color and r not in stones:
                    stones.add(r)
                    todo.append(r)
                elif board[r] == EMPTY:
                    libs.add(r)
        return stones, libs

    def chains(self) -> list[tuple[int, set[int], set[int]]]:
        """Every chain on the board as (colour, stones, liberties)."""
        done: set[int] = set()
        out = []
        for a in range(self.n * self.n):
            if self.board[a] != EMPTY and a not in done:
                stones, libs = self.chain(a)
                done |= stones
                out.append((self.board[a], stones, libs))
        return out

    # ---- rules ---------------------------------------------------------------------------------

    def _key(self, board: list[int], next_to_play: int):
        if self.ko == "situational":
            return (tuple(board), next_to_play)
        return tuple(board)

    def _result(self, a: int, color: int) -> tuple[list[int], set[int], set[int]]:
        """Board after ``color`` plays at empty ``a`` under these rules' capture order, with the
        captured opponent stones and the removed own stones (suicide)."""
        board = list(self.board)
        board[a] = color
        captured: set[int] = set()
        for r in self.neighbours(a):
            if board[r] == other(color) and r not in captured:
                stones, libs = self.chain(r, board)
                if not libs:
                    captured |= stones
        for r in captured:
            board[r] = EMPTY
        suicided: set[int] = set()
        stones, libs = self.chain(a, board)
        if not libs:
            suicided = stones
            for r in stones:
                board[r] = EMPTY
        return board, captured, suicided

    def status(self, a: int) -> str:
        n = self.n
        if self.done:
            return GAME_OVER
        if a == n * n:
            return LEGAL
        if self.board[a] != EMPTY:
            return OCCUPIED
        board, _, suicided = self._result(a, self.to_play)
        if suicided and (len(suicided) == 1 or not self.suicide_allowed):
            return SUICIDE
        if self.ko == "simple":
            return KO if a == self.ko_point else LEGAL
        if self._key(board, other(self.to_play)) in self._seen:
            return KO
        return LEGAL

    def legal_mask(self) -> list[bool]:
        return [self.status(a) == LEGAL for a in range(self.n * self.n + 1)]

    def play(self, a: int) -> None:
        status = self.status(a)
        if status != LEGAL:
            raise ValueError(f"illegal move {a}: {status}")
        me = self.to_play
        self.ko_point = None
        if a == self.n * self.n:
            self.passes += 1
        else:
            self.passes = 0
            board, captured, _ = self._result(a, me)
            self.board = board
            if len(captured) == 1 and board[a] == me:
                stones, libs = self.chain(a)
                if len(stones) == 1 and len(libs) == 1:
                    self.ko_point = next(iter(captured))
        self.to_play = other(me)
        self.num_moves += 1
        key = self._key(self.board, self.to_play)
        self.history.append(key)
        self._seen.add(key)
        if self.passes >= 2 or self.num_moves >= self.max_moves:
            self.done = True

    # ---- scoring -------------------------------------------------------------------------------

    def ownership(self) -> list[int]:
        """Tromp-Taylor area per point: +1 black, -1 white, 0 for empty regions reaching both or neither."""
        n = self.n
        owner = [0] * (n * n)
        visited: set[int] = set()
        for a in range(n * n):
            if self.board[a] == BLACK:
                owner[a] = 1
            elif self.board[a] == WHITE:
                owner[a] = -1
            elif a not in visited:
                region, reaches, todo = {a}, set(), [a]
                while todo:
                    q = todo.pop()
                    for r in self.neighbours(q):
                        if self.board[r] == EMPTY:
                            if r not in region:
                                region.add(r)
                                todo.append(r)
                        else:
                            reaches.add(self.board[r])
                visited |= region
                value = 1 if reaches == {BLACK} else (-1 if reaches == {WHITE} else 0)
                for q in region:
                    owner[q] = value
        return owner

    def score(self) -> float:
        """Black area minus white area minus komi."""
        return sum(self.ownership()) - self.komi


# ---- engine glue: read a go_engine.board state and recount it from scratch -------------------------


def engine_grid(state, b: int = 0) -> list[int]:
    """Colours of game ``b`` of a ``go_engine.board.BoardState``, indexed by action."""
    n = state.size
    W = n + 2
    return [int(state.board[b, (a // n + 1) * W + a % n + 1]) for a in range(n * n)]


def ref_from_engine(state, b: int, rules) -> RefGame:
    """A reference game holding the stones and side to move of an engine row (no history)."""
    grid = engine_grid(state, b)
    return RefGame(
        state.size,
        ko=rules.to_dict()["ko"],
        suicide_allowed=rules.to_dict()["suicide"] == "allowed",
        komi=rules.komi,
        max_moves=rules.max_moves,
        black=[a for a, c in enumerate(grid) if c == BLACK],
        white=[a for a, c in enumerate(grid) if c == WHITE],
        to_play=int(state.to_play[b]),
    )


def check_consistency(state, b: int = 0) -> None:
    """Assert that the incremental chain data and hashes of game ``b`` equal a from-scratch recount
    (chains by flood fill, hashes from ``board.ZOBRIST``), as KataGo's ``checkConsistency`` does."""
    from go_engine import board as B

    n = state.size
    W = n + 2
    cells = state.board[b]
    for p in range(W * W):
        r, c = divmod(p, W)
        on_wall = r in (0, W - 1) or c in (0, W - 1)
        assert (cells[p] == B.WALL) == on_wall, f"point {p}: wall marking broken"
    grid = engine_grid(state, b)
    game = RefGame(n, black=(), white=())
    game.board = grid
    expected_pos = int(B.BASE_KEY)

    def point(a: int) -> int:
        return (a // n + 1) * W + a % n + 1

    for color, stones, libs in game.chains():
        points = {point(a) for a in stones}
        heads = {int(state.chain_head[b, p]) for p in points}
        assert len(heads) == 1, f"chain {sorted(stones)} has several heads {heads}"
        head = heads.pop()
        assert head in points, f"head {head} of chain {sorted(stones)} is not one of its stones"
        walk, q = [], head
        for _ in range(len(points)):
            walk.append(q)
            q = int(state.chain_next[b, q])
        assert q == head and set(walk) == points, f"chain list from {head} is not the chain {sorted(points)}"
        assert int(state.chain_size[b, head]) == len(stones), f"chain at {head}: size"
        assert int(state.chain_libs[b, head]) == len(libs), (
            f"chain at {head}: {int(state.chain_libs[b, head])} liberties recorded, {len(libs)} real"
        )
        chain_key = 0
        for p in points:
            chain_key ^= int(B.ZOBRIST[color, p])
        assert int(state.chain_hash[b, head]) == chain_key, f"chain at {head}: hash"
        expected_pos ^= chain_key
    assert int(state.pos_hash[b]) == expected_pos, "position hash differs from the recount"
    K = state.history.shape[1]
    assert (state.history[b, int(state.num_moves[b]) % K] == cells).all(), "history ring misses the board"
    stones = (cells == B.BLACK) | (cells == B.WHITE)
    assert state.ever_occupied[b][stones].all(), "a stone stands on a point not marked ever_occupied (superko probes would skip it)"
