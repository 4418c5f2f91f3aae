#!/usr/bin/env bash
# The benchmarks for a machine with a real GPU (Linux, headless Chromium on Vulkan), unchanged:
#   scripts/device-bench.sh [compute units]     e.g. scripts/device-bench.sh 132   (H100 SXM: 132 SMs)
# runs `npm run bench -- device kernels partition` with the Chromium flags that give WebGPU the GPU,
# and stops at once if the browser still gets a fallback adapter (SwiftShader) instead. The compute
# units (WebGPU does not expose them) only fill the device bench's "vs two waves" column. About
# 2–4 minutes on a GPU; bounded at 5 minutes (WEBQ8_BENCH_TIMEOUT, seconds). Output: the tables, on
# stdout; docs/kernels.md says how to read them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
export WEBQ8_DEVICE_UNITS="${1:-${WEBQ8_DEVICE_UNITS:-0}}"
export WEBQ8_REQUIRE_GPU=1
export BENCH_CHROMIUM_ARGS="--enable-features=Vulkan --use-vulkan=native --use-angle=vulkan --enable-unsafe-webgpu --ignore-gpu-blocklist --disable-vulkan-surface ${BENCH_CHROMIUM_ARGS:-}"
exec timeout "${WEBQ8_BENCH_TIMEOUT:-300}" npm run bench -- device kernels partition
