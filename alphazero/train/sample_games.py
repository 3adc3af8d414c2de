"""Self-play game records as SGF (sample games in the run directory, for people to look at)."""

from __future__ import annotations

import datetime

from alphazero.game_record import GameRecord
from go_engine import sgf
from go_engine.board import BLACK, WHITE
from go_engine.rules import Rules


def record_to_sgf(record: GameRecord, player: str) -> sgf.SgfGame:
    import json

    rules = Rules.from_dict(json.loads(record.rules))
    moves, colour = [], BLACK
    for action in record.moves.tolist():
        moves.append((colour, int(action)))
        colour = WHITE if colour == BLACK else BLACK
    if record.resigned:
        result = sgf.GameResult(winner=BLACK if record.outcome > 0 else WHITE, margin=None, reason="resign")
    else:
        result = sgf.GameResult.from_score(float(record.final_score))
    return sgf.SgfGame(
        size=record.board_size, rules=rules, moves=tuple(moves), result=result, black_player=player,
        white_player=player, date=datetime.date.today().isoformat(),
        metadata={"gameId": record.game_id, "modelVersion": str(record.model_version),
                  "fullSearchPositions": str(int(record.full_search.sum()))},
    )
