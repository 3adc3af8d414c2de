"""Batched network evaluation for the search: numpy planes in, masked logits, value and aux out.

Contract (what ``selfplay`` calls)::

    policy_logits, value, aux = evaluator(planes, legal)
    planes         [B, C, n, n] float32   features of each position, side to move's view
    legal          [B, A] bool            legal moves, A = n*n + 1, pass last
    policy_logits  [B, A] float32         illegal moves set to ILLEGAL_LOGIT (-1e9, finite on purpose:
                                          softmax gives them exactly 0 and no arithmetic makes NaN)
    value          [B] float32            P(win) - P(loss) in [-1, 1], side to move's view
    aux            {"ownership": [B, n*n] float32 in [-1, 1] (+1 = side to move owns the point),
                    "score": [B] float32 expected margin in points, side to move's view}

One forward pass per call (or per ``max_batch`` chunk), under ``torch.inference_mode``; no Python
loop over positions.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import torch

from alphazero.checkpoint import CheckpointMeta, load_model
from alphazero.model import PolicyValueNet, scalar_value

ILLEGAL_LOGIT = -1e9
Precision = Literal["float32", "bfloat16", "float16"]
Backend = Literal["torch", "onnxruntime"]
BACKENDS = ("torch", "onnxruntime")
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def runnable_settings(device: str | torch.device, precision: Precision, backend: Backend, compile: bool) -> tuple[Precision, Backend, bool]:
    """(precision, backend, compile) as they can run on ``device``, for an actor whose device is
    decided by placement, not by the user: float16 kernels are CUDA's, so a CPU given float16 uses
    float32 (bfloat16 runs on CPUs too); onnxruntime is the CPU build here, so a CUDA device uses
    torch; onnxruntime computes in float32, uncompiled."""
    cuda = torch.device(device).type == "cuda"
    if backend == "onnxruntime" and cuda:
        backend = "torch"
    if backend == "onnxruntime":
        return "float32", backend, False
    return ("float32" if precision == "float16" and not cuda else precision), backend, compile


def inference_evaluator(model: PolicyValueNet, device: str | torch.device, precision: Precision, backend: Backend,
                        compile: bool, threads: int | None = None, max_batch: int = 1024) -> "NetworkEvaluator":
    """A ``NetworkEvaluator`` for the configured inference settings on ``device``, each setting
    replaced by its runnable fallback (``runnable_settings``) rather than refused."""
    precision, backend, compile = runnable_settings(device, precision, backend, compile)
    return NetworkEvaluator(model, device=device, precision=precision, compile=compile, max_batch=max_batch,
                            backend=backend, threads=threads)


class NetworkEvaluator:
    """Wraps a ``PolicyValueNet`` for inference on CPU or CUDA, optionally in bf16/fp16 and compiled.
    The evaluator owns ``model``: it is moved and cast in place and put in eval mode.

    ``backend``: ``torch`` (eager, or ``compile``; on the CPU in channels-last layout, which the
    CPU convolution kernels run faster) or ``onnxruntime`` (float32 on the CPU, ``threads``
    intra-op threads; see ``alphazero.onnx_backend``)."""

    def __init__(
        self,
        model: PolicyValueNet,
        device: str | torch.device = "cpu",
        precision: Precision = "float32",
        compile: bool = False,
        max_batch: int = 1024,
        backend: Backend = "torch",
        threads: int | None = None,
    ) -> None:
        self.device = torch.device(device)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
        if backend == "onnxruntime" and (self.device.type != "cpu" or precision != "float32" or compile):
            raise ValueError("backend 'onnxruntime' runs float32 on the CPU, uncompiled; got "
                             f"device {self.device}, precision {precision}, compile {compile}")
        if precision not in DTYPES:
            raise ValueError(f"precision must be one of {sorted(DTYPES)}, got {precision!r}")
        if precision == "float16" and self.device.type != "cuda":
            raise ValueError("float16 inference needs CUDA; use float32 or bfloat16 on CPU")
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.dtype = DTYPES[precision]
        self.in_planes = model.in_planes
        self.max_batch = max_batch
        self.backend = backend
        # Channels-last: the CPU's convolution kernels run this layout ~1.5x faster for our towers
        # (alphazero bench infer); the arithmetic is the same up to float rounding.
        self.channels_last = backend == "torch" and self.device.type == "cpu" and not compile
        self.memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = model.to(self.device, self.dtype, memory_format=self.memory_format).eval()
        self.compiled = compile
        # Compiled graphs are specialised on shape: pad batches to powers of two so at most
        # log2(max_batch) + 1 graphs per board size get built.
        if backend == "onnxruntime":
            from alphazero.onnx_backend import OnnxForward

            self.forward = OnnxForward(self.model, threads or torch.get_num_threads())
        else:
            self.forward = torch.compile(self.model, dynamic=False) if compile else self.model

    @classmethod
    def from_checkpoint(cls, directory: str | os.PathLike, device: str | torch.device = "cpu", precision: Precision = "float32",
                        compile: bool = False, max_batch: int = 1024, backend: Backend = "torch") -> tuple["NetworkEvaluator", CheckpointMeta]:
        model, meta = load_model(directory, "cpu")
        return cls(model, device, precision, compile, max_batch, backend), meta

    def load_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Swap in new weights of the same architecture (a new model version) without recompiling."""
        with torch.no_grad():
            self.model.load_state_dict(state_dict, strict=True)
        if self.backend == "onnxruntime":
            self.forward.reload(self.model)

    def set_weights(self, version: int, weights: dict[str, np.ndarray]) -> None:
        """Load a published version's weights (numpy arrays, as the driver sends them);
        ``version`` is the caller's bookkeeping (a remote evaluator's twin method needs it)."""
        self.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        if planes.ndim != 4 or planes.shape[1] != self.in_planes or planes.shape[2] != planes.shape[3]:
            raise ValueError(f"planes must be [B, {self.in_planes}, n, n], got {planes.shape}")
        b, _, n, _ = planes.shape
        if legal.shape != (b, n * n + 1) or legal.dtype != np.bool_:
            raise ValueError(f"legal must be bool [{b}, {n * n + 1}], got {legal.dtype} {legal.shape}")
        if b == 0:
            return np.zeros((0, n * n + 1), np.float32), np.zeros(0, np.float32), {"ownership": np.zeros((0, n * n), np.float32), "score": np.zeros(0, np.float32)}
        chunks = [self._evaluate(planes[i : i + self.max_batch], legal[i : i + self.max_batch]) for i in range(0, b, self.max_batch)]
        logits, value, ownership, score = (np.concatenate(parts) for parts in zip(*chunks))
        return logits, value, {"ownership": ownership, "score": score}

    def _evaluate(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, ...]:
        b = planes.shape[0]
        x = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))  # [b, C, n, n]
        mask = torch.from_numpy(np.ascontiguousarray(legal))  # [b, A]
        if self.compiled:
            padded = 1 << (b - 1).bit_length()
            if padded != b:
                x = torch.cat([x, x.new_zeros((padded - b, *x.shape[1:]))])
        with torch.inference_mode():
            x = x.to(self.device, self.dtype, non_blocking=True, memory_format=self.memory_format)
            mask = mask.to(self.device, non_blocking=True)
            out = self.forward(x)
            logits = out.policy_logits[:b].float()
            logits = torch.where(mask, logits, torch.full_like(logits, ILLEGAL_LOGIT))
            value = scalar_value(out.value_logits[:b])
            ownership = torch.tanh(out.ownership_logits[:b].float())
            score = out.score[:b].float()
            results = torch.cat([logits, value[:, None], ownership, score[:, None]], dim=1).cpu().numpy()
        a = legal.shape[1]
        # One device-to-host copy, split back into the four outputs.
        return results[:, :a], results[:, a], results[:, a + 1 : -1], results[:, -1]
