"""Networks of feature version 1 (area only, 2k+10 planes) still load and play area rules, and refuse
territory rules by name (GTP --rules and kata-set-rules, analysis queries, arena matches) unless told
to substitute; version-2 networks play territory rules for real."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
import torch

from alphazero.analysis.position import FieldError
from alphazero.analysis.query import parse_rules
from alphazero.arena.players import build_player, parse_spec
from alphazero.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from alphazero.config.network import network_preset
from alphazero.gtp.server import serve
from alphazero.gtp_cli import add_arguments, build_engine
from alphazero.model import PolicyValueNet
from go_engine import features as F
from go_engine.rules import ScoringRule, TaxRule, preset


def version_1_checkpoint(directory: Path, history: int = 2) -> Path:
    """A tiny network saved as a version-1 run saved it: 2k+10 input planes, feature_version 1."""
    torch.manual_seed(0)
    net = PolicyValueNet(network_preset("tiny"), F.num_planes(history, 1))
    meta = CheckpointMeta(network=net.config, input_planes=net.in_planes, feature_version=1, history=history,
                          board_sizes=(5,), rules=(preset("chinese").to_dict(),))
    save_checkpoint(directory, net, meta)
    return directory


def gtp_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def session(engine, text: str) -> list[str]:
    out = io.StringIO()
    serve(engine, io.StringIO(text), out, log=lambda text: None)
    return out.getvalue().split("\n\n")[:-1]


def test_version_1_checkpoint_plays_area_and_refuses_territory_in_gtp(tmp_path, capsys):
    ckpt = version_1_checkpoint(tmp_path / "v1")
    assert load_checkpoint(ckpt).meta.input_planes == 2 * 2 + 10
    common = ("--checkpoint", str(ckpt), "--size", "5", "--visits", "8", "--eval-cache", "0")
    with pytest.raises(F.RulesNotSupported, match="feature version 1.*area scoring.*japanese.*rules-substitute"):
        build_engine(gtp_args(*common, "--rules", "japanese"))
    engine = build_engine(gtp_args(*common, "--rules", "chinese"))
    logged = []
    engine.log = logged.append
    out = session(engine, "genmove b\nkata-set-rules japanese\nkgs-rules japanese\nkata-get-rules\ngenmove w\n")
    assert out[0].startswith("= ") and out[4].startswith("= ")  # the network's 2k+10 planes fed it: it plays
    for refusal in out[1:3]:
        assert refusal.startswith("? the network has feature version 1") and "rules-substitute" in refusal
    assert '"scoring":"AREA"' in out[3] and engine.game.rules.name() == "chinese"  # unchanged
    # With the substitute option: territory rules played, with a warning.
    engine = build_engine(gtp_args(*common, "--rules", "japanese", "--rules-substitute"))
    assert "trained under area scoring" in capsys.readouterr().err
    engine.log = logged.append
    out = session(engine, "genmove b\nkata-set-rules korean\n")
    assert out[0].startswith("= ") and out[1] == "="
    assert any("WARNING" in line and "area-trained" in line for line in logged)


def test_analysis_rules_follow_the_network_version():
    rules, kind, warning = parse_rules("japanese", feature_version=2)
    assert rules.is_territory and kind == "territory" and warning is None  # no warning for version 2
    with pytest.raises(FieldError, match="feature version 1.*cannot play"):
        parse_rules("japanese", feature_version=1)
    _, _, warning = parse_rules("korean", feature_version=1, substitute=True)
    assert "feature version 1" in warning and "area" in warning
    assert parse_rules("chinese", feature_version=1)[2] is None  # area rules: no warning for either version
    rules, _, warning = parse_rules({"ko": "SIMPLE", "scoring": "TERRITORY"}, feature_version=2)
    assert (rules.scoring, rules.tax, warning) == (ScoringRule.TERRITORY, TaxRule.SEKI, None)
    with pytest.raises(FieldError, match="tax"):
        parse_rules({"scoring": "TERRITORY", "tax": "SOME"})


def test_arena_refuses_a_version_1_network_in_a_territory_match(tmp_path):
    ckpt = version_1_checkpoint(tmp_path / "v1")
    spec = parse_spec(f"raw:{ckpt}")
    assert build_player(spec, preset("chinese").with_komi(0.5), 10.0).feature_version == 1
    with pytest.raises(F.RulesNotSupported, match="feature version 1"):
        build_player(spec, preset("japanese"), 10.0)
