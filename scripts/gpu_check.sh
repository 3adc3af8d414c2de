#!/usr/bin/env bash
# The GPU check: at most 10 minutes on one GPU, printing each figure next to its target.
#   1. bench infer: b6c128, 9x9, bfloat16 and float16, batches 1..1024, with and without
#      torch.compile (target >= 150,000 positions/s at batch 1024 on an H100-class GPU);
#   2. bench train: b6c128, batch 1024, bf16 autocast (target >= 50,000 samples/s);
#   3. a 5-minute 9x9-gpu training run: games/hour, evaluations/s, GPU utilisation (nvidia-smi)
#      and the realised samples-per-position ratio against the preset's target;
#   4. bench shared_inference on the GPU: self-play positions/s of 1, 2 and 4 actors with per-actor
#      inference vs one shared inference server (loop.inference=shared is worth making the GPU
#      presets' default where the ratio is above 1).
# Usage: scripts/gpu_check.sh [--dry-run]
#   --dry-run (or GPU_CHECK_DEVICE=cpu): the same steps shrunk to a few minutes on a CPU (tiny
#   network, the 9x9-gpu layout with its GPU reservations dropped and loop.device=cpu), to check
#   the script itself without a GPU.
# Environment: PYTHON (default: python), OUT (where the run and logs go; default a temp dir),
#   GPU_CHECK_DEVICE (cuda, the default, or cpu: the dry run).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DRY=0
if [[ "${1:-}" == "--dry-run" ]]; then DRY=1; elif [[ -n "${1:-}" ]]; then echo "usage: $0 [--dry-run]" >&2; exit 2; fi
case "${GPU_CHECK_DEVICE:-cuda}" in
  cpu) DRY=1 ;;
  cuda) ;;
  *) echo "GPU_CHECK_DEVICE must be cuda or cpu, got '${GPU_CHECK_DEVICE}'" >&2; exit 2 ;;
esac
OUT=${OUT:-$(mktemp -d -t gpu-check-XXXXXX)}
mkdir -p "$OUT"

if [[ $DRY == 1 ]]; then
  DEVICE=cpu; NET=tiny; BATCHES=1,8; COMPILED_BATCHES=8; SECONDS_PER=0.2; PRECISIONS="bfloat16"; TRAIN_BATCH=64; RUN_MINUTES=0.75
  RUN_ARGS=(network.blocks=2 network.channels=16 network.global_pool_every=2 network.global_pool_channels=8
            network.policy_head_channels=8 network.value_head_channels=8 network.value_hidden=16
            search.simulations=8 search.gumbel_considered=4 selfplay.games_in_parallel=8 selfplay.cheap_simulations=4
            trainer.batch_size=32 trainer.warmup_steps=5 replay.min_positions=200
            loop.train_steps_per_generation=8 loop.train_steps_per_task=4 loop.search_steps_per_task=32
            loop.selfplay_actors=1 loop.actor_cpus=1 loop.learner_cpus=1 loop.actor_gpus=0 loop.learner_gpus=0
            loop.device=cpu arena.every_generations=0)
  SCALING_ARGS=(--preset tiny-cpu --actors 1,2 --seconds 1 --device cpu)
else
  # Compiled: three batch sizes (each size is its own graph, ~20-40 s to compile) to fit 10 minutes.
  DEVICE=cuda; NET=b6c128; BATCHES=1,8,64,256,1024; COMPILED_BATCHES=1,64,1024; SECONDS_PER=1.0; PRECISIONS="bfloat16 float16"; TRAIN_BATCH=1024
  RUN_MINUTES=5; RUN_ARGS=(arena.every_generations=0)
  SCALING_ARGS=(--preset 9x9-gpu --actors 1,2,4 --seconds 10 --device cuda --server-cpus 2 loop.actor_cpus=2)
fi
echo "gpu_check: output in $OUT (dry run: $DRY)"
section() { echo; echo "== $1"; }
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"

# 1. Inference.
section "1. bench infer ($NET, 9x9; target >= 150000 positions/s at batch 1024 on an H100-class GPU)"
for precision in $PRECISIONS; do
  for compile in "" "--compile"; do
    log="$OUT/infer-$precision${compile:+-compiled}.txt"
    batches=$BATCHES
    if [[ -n "$compile" ]]; then batches=$COMPILED_BATCHES; fi
    "$PYTHON" -m alphazero.cli bench infer --preset "$NET" --board-size 9 --device "$DEVICE" --precision "$precision" \
      $compile --batches "$batches" --seconds "$SECONDS_PER" --threads "$(nproc)" | tee "$log"
    largest=${batches##*,}
    awk -v b="$largest" -v tag="$precision${compile:+ compiled}" \
      '$1 == b { printf "  => infer %s: %.0f positions/s at batch %d (target >= 150000 on an H100-class GPU): %.2fx target\n", tag, $2, b, $2 / 150000 }' "$log"
  done
done

# 2. Training.
section "2. bench train ($NET, batch $TRAIN_BATCH; target >= 50000 samples/s in bf16)"
"$PYTHON" -m alphazero.cli bench train --presets "$NET" --batch-size "$TRAIN_BATCH" --device "$DEVICE" \
  --seconds "$((DRY == 1 ? 1 : 5))" --threads "$(nproc)" | tee "$OUT/train.txt"
awk -v net="$NET" '$1 == net { printf "  => train %s: %.0f samples/s (target >= 50000, bf16): %.2fx target\n", net, $3, $3 / 50000 }' "$OUT/train.txt"

# 3. A short 9x9-gpu run, with the GPU's utilisation sampled every 2 s alongside.
section "3. a $RUN_MINUTES-minute 9x9-gpu run (games/hour, evaluations/s, GPU utilisation, realised ratio vs target)"
UTIL_PID=""
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -l 2 > "$OUT/gpu-util.txt" &
  UTIL_PID=$!
fi
"$PYTHON" -m alphazero.cli train --preset 9x9-gpu --run-dir "$OUT/run" --wandb off --quiet \
  --time-limit "$RUN_MINUTES" "${RUN_ARGS[@]}" 2>&1 | tail -n 20
if [[ -n "$UTIL_PID" ]]; then kill "$UTIL_PID" 2> /dev/null || true; fi
"$PYTHON" - "$OUT" << 'EOF'
import json, sys
from pathlib import Path
from alphazero.train.metrics import read_metrics

out = Path(sys.argv[1])
records = read_metrics(out / "run" / "metrics.jsonl")
config = json.loads((out / "run" / "config.json").read_text())
selfplay = [r for r in records if r["kind"] == "selfplay"]
generations = [r for r in records if r["kind"] == "generation"]
def mean(key):
    values = [r[key] for r in selfplay if r.get(key) is not None]
    return sum(values) / len(values) if values else float("nan")
print(f"  => 9x9-gpu run: {len(generations)} generations, games/hour {mean('games_per_hour'):.0f}, "
      f"evaluations/s {mean('evaluations_per_s'):.0f}, positions/s {mean('positions_per_s'):.0f}")
target = config["loop"]["samples_per_position"]
if generations:
    realised = generations[-1]["ratio_realised"]
    print(f"  => realised samples per position {realised:.2f} (target {target}): {realised / target:.2f}x target")
else:
    print(f"  => realised samples per position: no generation published yet (target {target})")
util = out / "gpu-util.txt"
if util.exists() and util.read_text().split():
    values = [float(v) for v in util.read_text().split()]
    print(f"  => GPU utilisation: mean {sum(values) / len(values):.0f}%, max {max(values):.0f}% over {len(values)} samples")
else:
    print("  => GPU utilisation: n/a (no nvidia-smi)")
EOF

# 4. Shared inference vs per-actor inference.
section "4. bench shared_inference (positions/s, shared server vs per-actor; shared pays where > 1.00x)"
"$PYTHON" -m alphazero.cli bench shared_inference "${SCALING_ARGS[@]}" | tee "$OUT/shared-inference.txt"
awk '$2 == "shared" { printf "  => shared inference, %d actor(s): %s positions/s, %s of per-actor (mean batch %s; target > 1.00x to make it the GPU default)\n", $1, $5, $8, $6 }' \
  "$OUT/shared-inference.txt"
echo
echo "gpu_check: done (output in $OUT)"
