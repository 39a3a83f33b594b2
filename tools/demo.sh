#!/usr/bin/env bash
# The demo: train configs/demo.py on this machine (a few minutes on 2 CPU cores), test it, save
# restored images and input | restored | ground truth grids, and print one summary line:
#   demo: input PSNR X dB, restored PSNR Y dB (N images) -> DIR
# Usage: bash tools/demo.sh [--cfg-options KEY=VALUE ...]   (given to both train.py and test.py,
#        e.g. --cfg-options train_cfg.max_iters=600)
# WORK_DIR (default work_dirs/demo) sets where everything goes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/setup_venv.sh demo "rf, skimage, lpips, torchmetrics, torch_fidelity"
source tools/malloc_env.sh
py="$venv/bin/python"
work_dir="${WORK_DIR:-work_dirs/demo}"
out_dir="$work_dir/restored"
start=$(date +%s)
mkdir -p "$work_dir"

echo "[demo] training configs/demo.py -> $work_dir (logs: $work_dir/train.log)" >&2
# Validation would score the same two photographs that testing scores next: skip it here.
"$py" tools/train.py configs/demo.py --work-dir "$work_dir" \
    --cfg-options train_cfg.val_interval=1000000000 "$@" > "$work_dir/train.log" 2>&1 || {
    tail -n 30 "$work_dir/train.log" >&2; echo "[demo] training failed" >&2; exit 1; }
checkpoint="$(cat "$work_dir/last_checkpoint")"

echo "[demo] testing $checkpoint on held-out photographs" >&2
"$py" tools/test.py configs/demo.py "$checkpoint" --work-dir "$work_dir" --out-dir "$out_dir" \
    "$@" > "$work_dir/test.log" 2>&1 || {
    tail -n 30 "$work_dir/test.log" >&2; echo "[demo] testing failed" >&2; exit 1; }
echo "[demo] done in $(( $(date +%s) - start )) s; grids in $out_dir/grids" >&2

"$py" - "$work_dir/metrics.json" "$out_dir" <<'PY'
import glob, json, os, sys
metrics = json.load(open(sys.argv[1]))['metrics']
count = len(glob.glob(os.path.join(sys.argv[2], '*.png')))
print(f"demo: input PSNR {metrics['PSNR_input']:.2f} dB, restored PSNR {metrics['PSNR']:.2f} dB "
      f"({count} images) -> {sys.argv[2]}")
PY
