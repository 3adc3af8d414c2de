# GPU image for training runs, arena matches and GTP play: Python, the project with its pinned
# PyTorch (the PyPI wheel bundles the CUDA libraries; the host needs only the NVIDIA driver), GNU Go,
# and every numba kernel compiled at build time so Ray workers start warm.
# Build: docker build -t alphazero-go .
# Run:   docker run --gpus all -v "$PWD/runs:/runs" alphazero-go train --preset 9x9-gpu --run-dir /runs/9x9
ARG BASE_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    NUMBA_CACHE_DIR=/opt/numba-cache \
    PATH=/opt/venv/bin:/usr/games:$PATH

# GNU Go is the arena's reference opponent (Debian/Ubuntu ship only 3.8: nothing to pin).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv gnugo \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /opt/alphazero-go
COPY pyproject.toml README.md ./
COPY alphazero ./alphazero
COPY go_engine ./go_engine
COPY selfplay ./selfplay
COPY trainer ./trainer
COPY scripts ./scripts
# Install, then compile every kernel self-play runs once (into NUMBA_CACHE_DIR): the engine, the
# encoder and both searches, serial and parallel twins (batches of 2 and 64), so workers start warm.
RUN pip install . && python scripts/warmup.py

ENTRYPOINT ["alphazero"]
CMD ["--help"]
