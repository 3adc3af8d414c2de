"""scripts/gpu_check.sh on the CPU (``GPU_CHECK_DEVICE=cpu``: tiny sizes, short times): it runs end
to end and prints every section with its figures next to their targets, so the day a GPU is lent
the check is one command."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.sh"


@pytest.mark.timeout(1500)  # a few minutes on an idle 2-core machine; 20 at a load of 40
def test_gpu_check_dry_run_prints_every_section_with_targets(tmp_path):
    env = {**os.environ, "GPU_CHECK_DEVICE": "cpu", "PYTHON": sys.executable, "OUT": str(tmp_path / "out")}
    # Its own process group: on a timeout the benchmarks and runs it started go with it.
    proc = subprocess.Popen(["bash", str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=1400)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # the Python children shut their Ray down on SIGINT
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # e.g. inside torch.compile, which does not stop for it
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate(timeout=30)
        raise AssertionError("gpu_check.sh --dry-run ran past 1400 s:\n" + out[-4000:])
    assert proc.returncode == 0, out[-4000:] + err[-4000:]
    sections = re.findall(r"^== (\d)\. ", out, flags=re.M)
    assert sections == ["1", "2", "3", "4"], out
    figures = [line.strip() for line in out.splitlines() if line.strip().startswith("=>")]
    expected = [r"=> infer bfloat16: \d+ positions/s at batch 8 \(target >= 150000 .*\): [\d.]+x target",
                r"=> infer bfloat16 compiled: \d+ positions/s at batch 8 \(target >= 150000 .*\): [\d.]+x target",
                r"=> train tiny: \d+ samples/s \(target >= 50000, bf16\): [\d.]+x target",
                # A short run on a loaded machine may end before its first game or generation: nan then.
                r"=> 9x9-gpu run: \d+ generations, games/hour (\d+|nan), evaluations/s (\d+|nan), positions/s (\d+|nan)",
                r"=> realised samples per position.*target.*",
                r"=> GPU utilisation: n/a \(no nvidia-smi\)",
                r"=> shared inference, 1 actor\(s\): [\d.]+ positions/s, [\d.]+x of per-actor .*target > 1.00x.*",
                r"=> shared inference, 2 actor\(s\): [\d.]+ positions/s, [\d.]+x of per-actor .*target > 1.00x.*"]
    assert len(figures) == len(expected), "\n".join(figures)
    for line, pattern in zip(figures, expected):
        assert re.fullmatch(pattern, line), (pattern, line)
    assert out.rstrip().endswith(f"gpu_check: done (output in {tmp_path / 'out'})")
    # What each section wrote stays in OUT for a look afterwards.
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"infer-bfloat16.txt", "infer-bfloat16-compiled.txt", "train.txt", "shared-inference.txt", "run"} <= names


def test_gpu_check_refuses_an_unknown_device():
    env = {**os.environ, "GPU_CHECK_DEVICE": "tpu", "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2 and "GPU_CHECK_DEVICE must be cuda or cpu, got 'tpu'" in proc.stderr
