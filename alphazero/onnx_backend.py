"""ONNX Runtime forward pass for CPU inference: the network exported to ONNX (in memory) and run by
ONNX Runtime's CPU provider, which fuses convolution, batch norm and ReLU and picks faster kernels
than eager PyTorch for our small towers (``alphazero bench infer`` prints both side by side).

Contract (what ``NetworkEvaluator`` calls)::

    forward = OnnxForward(model, threads)   # exports ``model`` as it is now (eval mode)
    forward(x) -> NetOutput                 # x: [B, C, n, n] float32 torch tensor on the CPU
    forward.reload(model)                   # new weights: export again

The export keeps the batch dimension dynamic and the board side fixed at the side of the first
input seen; a batch of another side exports a graph for that side (kept, one per side).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from alphazero.model import NetOutput, PolicyValueNet


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class _Outputs(torch.nn.Module):
    """The network with a tuple output (ONNX export needs plain tensors)."""

    def __init__(self, model: PolicyValueNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(x)
        return out.policy_logits, out.value_logits, out.ownership_logits, out.score


class OnnxForward:
    """Runs a ``PolicyValueNet`` (float32, CPU) through ONNX Runtime with ``threads`` intra-op threads."""

    def __init__(self, model: PolicyValueNet, threads: int = 1) -> None:
        try:
            import onnxruntime
        except ImportError as e:  # a clear message instead of a traceback from deep inside the actor
            raise RuntimeError("inference backend 'onnxruntime' needs the onnxruntime package "
                               "(pip install onnxruntime); use backend 'torch' otherwise") from e
        self._ort = onnxruntime
        self.threads = max(1, int(threads))
        self.model = model
        self.sessions: dict[int, object] = {}  # board side -> InferenceSession

    def reload(self, model: PolicyValueNet) -> None:
        """New weights (or a new model): drop the exported graphs; the next call exports again."""
        self.model = model
        self.sessions.clear()

    def _session(self, n: int, in_planes: int):
        session = self.sessions.get(n)
        if session is None:
            buffer = io.BytesIO()
            example = torch.zeros((1, in_planes, n, n), dtype=torch.float32)
            wrapped = _Outputs(self.model).eval()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice, tracer warnings
                torch.onnx.export(wrapped, (example,), buffer, input_names=["planes"],
                                  output_names=["policy", "value", "ownership", "score"],
                                  dynamic_axes={"planes": {0: "batch"}}, dynamo=False, opset_version=17,
                                  training=torch.onnx.TrainingMode.EVAL)
            options = self._ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = self._ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
            self.sessions[n] = session
        return session

    def __call__(self, x: torch.Tensor) -> NetOutput:
        planes = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)  # [B, C, n, n]
        policy, value, ownership, score = self._session(planes.shape[-1], planes.shape[1]).run(None, {"planes": planes})
        return NetOutput(torch.from_numpy(policy), torch.from_numpy(value), torch.from_numpy(ownership), torch.from_numpy(score))
