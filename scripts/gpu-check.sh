#!/usr/bin/env bash
# Issue 12's GPU check (not run in CI): a FLUX.1-dev-sized transformer with random weights on the
# CUDA provider, timing one 1024×1024 inference step and one 512×512 rank-16 LoRA training step,
# with RSS and GPU memory (scripts/gpu-check.ts). Needs onnxruntime-node's CUDA build:
#   npm install onnxruntime-node --onnxruntime-node-install=cuda12   (on a machine with internet)
# Extra arguments go to the script: --depth N --single N to shrink the block counts, --json,
# --skip-train. FLUXTUNE_DEVICE=cpu ./scripts/gpu-check.sh --depth 1 --single 1 checks the script
# itself without a GPU. The float32 model is ~48 GB: the session writes it as ONNX external data
# under FLUXTUNE_TMP_DIR (default the system temp folder), which needs that much free disk.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLUXTUNE_DEVICE="${FLUXTUNE_DEVICE:-cuda}"
if [ "$FLUXTUNE_DEVICE" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "gpu-check: nvidia-smi failed: no NVIDIA GPU or driver here" >&2; exit 1; }
  ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so >/dev/null 2>&1 || {
    echo "gpu-check: onnxruntime-node has no CUDA provider; run: npm install onnxruntime-node --onnxruntime-node-install=cuda12" >&2
    exit 1
  }
fi
exec node --max-old-space-size=200000 --import tsx scripts/gpu-check.ts "$@"
