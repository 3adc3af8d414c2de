"""Checkpoint format: a directory holding ``model.safetensors`` (weights) and ``model.json`` (metadata).

Layout (the training loop writes ``<run-dir>/models/<generation>/``)::

    <checkpoint dir>/model.safetensors   all tensors of the state dict (weights and norm buffers)
    <checkpoint dir>/model.json          CheckpointMeta as JSON, including the weights' sha256

Each file is written atomically (temp file in the same directory, fsync, ``os.replace``), weights
first and metadata last, so a directory with a readable ``model.json`` whose hash matches its weights
is complete. Loading never unpickles: safetensors holds raw tensors, JSON the rest; every check
that fails raises ``CheckpointError`` naming the file and the problem. Round trips are bit-exact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from alphazero.atomic_io import write_bytes_atomic
from alphazero.config.network import NetworkConfig
from alphazero.model import PolicyValueNet

WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
FORMAT = "alphazero-go-checkpoint"
FORMAT_VERSION = 1
MAX_META_BYTES = 1 << 20
MAX_WEIGHTS_BYTES = 4 << 30


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupt or does not match what was expected."""


@dataclass(frozen=True)
class CheckpointMeta:
    """Everything needed to rebuild and trust a network besides its tensors."""

    network: NetworkConfig
    input_planes: int  # C of the feature encoding the net was trained on
    feature_version: int  # go_engine.features.FEATURE_VERSION at training time
    history: int  # feature history length k (input_planes = features.num_planes(history))
    board_sizes: tuple[int, ...] = ()  # board sides seen in training
    rules: tuple[dict, ...] = ()  # go_engine.rules.Rules.to_dict() of the rules seen in training
    generation: int = 0
    samples_seen: int = 0  # training samples (positions) the weights have seen
    parent: str | None = None  # name/path of the checkpoint this one was trained from
    weights_sha256: str = ""  # filled in by save_checkpoint
    weights_bytes: int = 0  # filled in by save_checkpoint

    def to_json_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["network"] = self.network.to_dict()
        out["board_sizes"] = list(self.board_sizes)
        out["rules"] = [dict(r) for r in self.rules]
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "weights_file": WEIGHTS_FILE, **out}

    @classmethod
    def from_json_dict(cls, data: Any, where: str) -> "CheckpointMeta":
        def fail(problem: str) -> CheckpointError:
            return CheckpointError(f"{where}: {problem}")

        if not isinstance(data, dict):
            raise fail("metadata is not a JSON object")
        if data.get("format") != FORMAT:
            raise fail(f"not a checkpoint (format {data.get('format')!r}, expected {FORMAT!r})")
        if data.get("format_version") != FORMAT_VERSION:
            raise fail(f"unsupported format_version {data.get('format_version')!r} (this code reads {FORMAT_VERSION})")
        fields = {f.name for f in dataclasses.fields(cls)}
        known = fields | {"format", "format_version", "weights_file"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise fail(f"unknown metadata keys {unknown}")
        missing = sorted(k for k in ("network", "input_planes", "feature_version", "history", "weights_sha256", "weights_bytes") if k not in data)
        if missing:
            raise fail(f"missing metadata keys {missing}")
        for key in ("input_planes", "feature_version", "history", "generation", "samples_seen", "weights_bytes"):
            value = data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise fail(f"{key} must be a non-negative integer, got {value!r}")
        sha = data["weights_sha256"]
        if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
            raise fail(f"weights_sha256 is not a hex sha256: {sha!r}")
        sizes = data.get("board_sizes", [])
        if not isinstance(sizes, list) or not all(isinstance(s, int) and not isinstance(s, bool) and 2 <= s <= 19 for s in sizes):
            raise fail(f"board_sizes must be a list of integers in [2, 19], got {sizes!r}")
        rules = data.get("rules", [])
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise fail(f"rules must be a list of objects, got {rules!r}")
        parent = data.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise fail(f"parent must be a string or null, got {parent!r}")
        try:
            network = NetworkConfig.from_dict(data["network"], "network")
        except ValueError as e:
            raise fail(f"bad network config: {e}") from None
        values = {k: data[k] for k in fields if k in data}
        values.update(network=network, board_sizes=tuple(sizes), rules=tuple(rules))
        return cls(**values)


@dataclass(frozen=True)
class Checkpoint:
    meta: CheckpointMeta
    state_dict: dict[str, torch.Tensor]  # CPU tensors, exactly as saved


def weights_bytes_of(state_dict: Mapping[str, torch.Tensor]) -> bytes:
    """The safetensors encoding of a state dict (CPU, contiguous copies; no pickle)."""
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in state_dict.items()}
    return safetensors_save(tensors, metadata={"format": FORMAT})


def save_checkpoint(directory: str | os.PathLike, weights: torch.nn.Module | Mapping[str, torch.Tensor], meta: CheckpointMeta) -> CheckpointMeta:
    """Write ``weights`` (a module or a state dict) and ``meta`` under ``directory`` (created if
    needed). Returns the metadata as written, with the weights' size and sha256 filled in."""
    state = weights.state_dict() if isinstance(weights, torch.nn.Module) else weights
    data = weights_bytes_of(state)
    meta = dataclasses.replace(meta, weights_sha256=hashlib.sha256(data).hexdigest(), weights_bytes=len(data))
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path / WEIGHTS_FILE, data)
    text = json.dumps(meta.to_json_dict(), indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(path / META_FILE, text.encode("utf-8"))
    return meta


def _read_capped(path: Path, cap: int) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (a checkpoint is a directory with {WEIGHTS_FILE} and {META_FILE})")
    size = path.stat().st_size
    if size > cap:
        raise CheckpointError(f"{path}: {size} bytes exceeds the limit of {cap}")
    return path.read_bytes()


def read_meta(directory: str | os.PathLike) -> CheckpointMeta:
    """Read and validate ``model.json`` only (cheap: for listing checkpoints)."""
    path = Path(directory)
    if not path.is_dir():
        raise CheckpointError(f"{path}: not a checkpoint directory")
    meta_path = path / META_FILE
    raw = _read_capped(meta_path, MAX_META_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{meta_path}: not valid JSON ({e}); truncated or corrupt") from None
    return CheckpointMeta.from_json_dict(data, str(meta_path))


def load_checkpoint(directory: str | os.PathLike, expected_feature_version: int | None = None, expected_input_planes: int | None = None) -> Checkpoint:
    """Read, hash-check and shape-check a checkpoint; optionally require a feature encoding."""
    path = Path(directory)
    meta = read_meta(path)
    meta_path, weights_path = path / META_FILE, path / WEIGHTS_FILE
    if expected_feature_version is not None and meta.feature_version != expected_feature_version:
        raise CheckpointError(
            f"{meta_path}: trained on feature version {meta.feature_version}, this code encodes version {expected_feature_version}"
        )
    if expected_input_planes is not None and meta.input_planes != expected_input_planes:
        raise CheckpointError(f"{meta_path}: network takes {meta.input_planes} input planes, expected {expected_input_planes}")
    data = _read_capped(weights_path, MAX_WEIGHTS_BYTES)
    if len(data) != meta.weights_bytes:
        raise CheckpointError(f"{weights_path}: {len(data)} bytes but {META_FILE} says {meta.weights_bytes} (truncated or from another checkpoint)")
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta.weights_sha256:
        raise CheckpointError(f"{weights_path}: sha256 {digest[:16]}... does not match {META_FILE} ({meta.weights_sha256[:16]}...): corrupt or mismatched")
    try:
        state = safetensors_load(data)
    except Exception as e:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{weights_path}: not a valid safetensors file ({e})") from None
    check_state_dict(state, meta, str(weights_path))
    return Checkpoint(meta=meta, state_dict=state)


def check_state_dict(state: Mapping[str, torch.Tensor], meta: CheckpointMeta, where: str) -> None:
    """Refuse tensors whose names, shapes or dtypes differ from the network ``meta`` describes."""
    reference = PolicyValueNet(meta.network, meta.input_planes).state_dict()
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(set(state) - set(reference))
    if missing or unexpected:
        raise CheckpointError(f"{where}: tensors do not match the network in {META_FILE}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for name, ref in reference.items():
        got = state[name]
        if got.shape != ref.shape or got.dtype != ref.dtype:
            raise CheckpointError(
                f"{where}: tensor {name!r} is {got.dtype} {tuple(got.shape)}, the network needs {ref.dtype} {tuple(ref.shape)}"
            )
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise CheckpointError(f"{where}: tensor {name!r} contains NaN or inf")


def require_network(meta: CheckpointMeta, network: NetworkConfig, where: str) -> None:
    """Refuse a checkpoint trained as another network than ``network`` (a run's config), naming
    each field that differs. A run keeps its network's shape: its checkpoints, learner state and
    self-play weights all load strictly. Adding outputs to a trained network (``aux_policy``) is a
    new run, as KataGo, whose trainer rebuilds the network its checkpoint describes and adds policy
    outputs only through an explicit migration of the checkpoint (python/migrate_*.py)."""
    ours, theirs = network.to_dict(), meta.network.to_dict()
    differs = [f"network.{k}: checkpoint {theirs[k]!r}, config {ours[k]!r}" for k in ours if ours[k] != theirs.get(k)]
    if differs:
        raise CheckpointError(f"{where}: trained as another network than the config says ({'; '.join(differs)}); "
                              "a run keeps its network's shape: start a new run for another one")


def load_model(directory: str | os.PathLike, device: str | torch.device = "cpu", **expect: int | None) -> tuple[PolicyValueNet, CheckpointMeta]:
    """Rebuild the network from a checkpoint, in eval mode on ``device``."""
    ckpt = load_checkpoint(directory, **expect)
    model = PolicyValueNet(ckpt.meta.network, ckpt.meta.input_planes)
    model.load_state_dict(ckpt.state_dict, strict=True)
    return model.to(device).eval(), ckpt.meta
