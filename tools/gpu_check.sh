#!/usr/bin/env bash
# The prepared GPU check: one script that fits one 10-minute call on a GPU machine and leaves
# what it measured under $OUT (or work_dirs/gpu_check).
# Usage: bash tools/gpu_check.sh [--minutes M] [--device cuda|cpu] [--smoke] [--data DIR]
#   --minutes M   the timed training of configs/lol.py (default 2)
#   --device      cuda (default) or cpu (RF_DEVICE=cpu: on purpose, never by accident)
#   --smoke       tiny everything on generated data: rehearses every step in a few minutes
#   --data DIR    the LOL pairs (our485/{low,high}; default ../shared/data/LOL)
# Steps (each logged to OUT/<step>.log, its exit code and seconds to OUT/steps.tsv; a failing
# step does not stop the others):
#   env        torch, CUDA, GPU and driver (OUT/env.json, nvidia-smi)
#   cuda_tests the tests marked `cuda` (tests/runtime/test_cuda.py; skipped without a GPU)
#   benchmark  tools/benchmark.py configs/lol.py at 256x256 and 600x400, batch 1 and 8 (TF32);
#              fp32, bf16 and bf16 channels-last at 256x256 batch 8; the training step (TF32,
#              bf16); compile (OUT/benchmark.jsonl)
#   dist       tools/dist_train.sh configs/lol.py 1 (NCCL on a GPU) for 2 epochs, --resume to a
#              third, then tools/test.py on the result
#   timed      configs/lol.py at the paper's batch per GPU for --minutes on the LOL pairs (every
#              16th held out), then tools/test.py on the held-out pairs (PSNR@lol, PSNR@lol_256)
# The last line printed is one JSON object: the device, each step's exit code and seconds, and
# the measured numbers.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
MINUTES=2
DEVICE=cuda
SMOKE=0
DATA="$root/../shared/data/LOL"
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) MINUTES="$2"; shift 2 ;;
        --device) DEVICE="$2"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --data) DATA="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "$0: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$DEVICE" in cuda|cpu) ;; *) echo "$0: --device must be cuda or cpu" >&2; exit 2 ;; esac
OUT="${OUT:-$root/work_dirs/gpu_check}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
: > "$OUT/steps.tsv"
if [ ! -x "$root/.venv/bin/python" ]; then
    source "$root/tools/setup_venv.sh" test "rf, pytest"
fi
PY="$root/.venv/bin/python"
[ "$DEVICE" = cpu ] && export RF_DEVICE=cpu

step() {  # step NAME COMMAND...: run, log, record exit code and seconds
    local name="$1" start rc
    shift
    echo "[gpu_check] $name: $*" >&2
    start=$(date +%s%N)
    "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    local ms=$(( ($(date +%s%N) - start) / 1000000 ))
    printf '%s\t%s\t%d.%03d\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000)) >> "$OUT/steps.tsv"
    [ $rc -eq 0 ] || { echo "[gpu_check] $name failed ($rc); see $OUT/$name.log" >&2; tail -5 "$OUT/$name.log" >&2; }
    return 0
}

# Data: the LOL pairs, every 16th held out for the test (the shared data has no eval15), or
# generated pairs for --smoke.
LAYOUT="$OUT/data/LOL"
mkdir -p "$LAYOUT"
if [ $SMOKE -eq 1 ]; then
    "$PY" - "$LAYOUT" <<'EOF'
import sys, cv2, numpy as np, pathlib
root = pathlib.Path(sys.argv[1]); rng = np.random.default_rng(0)
for i in range(6):
    gt = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    for side, image in (('high', gt), ('low', gt // 4)):
        (root / 'our485' / side).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / 'our485' / side / f'{i}.png'), image)
EOF
    HOLD=3
    RUNS=1
    WARMUP=0
    MODEL=(model.backbone.dim=8 'model.backbone.dim_mults=[1,2]')
    TRAIN=(train_dataloader.batch_size=2 'train_dataloader.dataset.pipeline.1.transforms.0.height=32'
           'train_dataloader.dataset.pipeline.1.transforms.0.width=32')
    WORKERS=()
    for loader in train_dataloader val_dataloader test_dataloader; do
        WORKERS+=("$loader.num_workers=0" "$loader.persistent_workers=False")
    done
else
    [ -d "$DATA/our485" ] || { echo "$0: no LOL pairs at $DATA/our485 (--data DIR)" >&2; exit 2; }
    ln -sfn "$(cd "$DATA/our485" && pwd)" "$LAYOUT/our485"
    HOLD=16
    RUNS=5
    WARMUP=2
    MODEL=()
    TRAIN=()
    WORKERS=()
fi
SPLIT=(train_dataloader.dataset.data_root="$LAYOUT" train_dataloader.dataset.hold_out_every=$HOLD
       train_dataloader.dataset.hold_out_part=rest)
for loader in val_dataloader test_dataloader; do
    SPLIT+=("$loader.dataset.data_root=$LAYOUT" "$loader.dataset.split=train"
            "$loader.dataset.hold_out_every=$HOLD" "$loader.dataset.hold_out_part=held_out")
done
OPTIONS=("${SPLIT[@]}" "${MODEL[@]}" "${TRAIN[@]}" "${WORKERS[@]}")

# env
step env "$PY" -c "
import json, platform, torch
info = dict(torch=torch.__version__, cuda_build=torch.version.cuda, cuda=torch.cuda.is_available(),
            python=platform.python_version())
if torch.cuda.is_available():
    info.update(gpu=torch.cuda.get_device_name(0), gpus=torch.cuda.device_count(),
                capability='.'.join(map(str, torch.cuda.get_device_capability(0))),
                cudnn=torch.backends.cudnn.version())
json.dump(info, open('$OUT/env.json', 'w')); print(json.dumps(info))"
command -v nvidia-smi > /dev/null && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1

# cuda_tests (all skipped without a GPU: exit code 0)
step cuda_tests "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/runtime/test_cuda.py -rs

# benchmark
benchmark() {
    local config=configs/lol.py
    [ $SMOKE -eq 1 ] && config=configs/demo.py
    : > "$OUT/benchmark.jsonl"
    local sizes=("256 256" "400 600")
    [ $SMOKE -eq 1 ] && sizes=("64 64")
    for size in "${sizes[@]}"; do
        for batch in 1 8; do
            [ $SMOKE -eq 1 ] && [ $batch -eq 8 ] && continue
            # shellcheck disable=SC2086
            "$PY" tools/benchmark.py "$config" --device "$DEVICE" --size $size --batch $batch \
                --runs "$RUNS" --warmup "$WARMUP" --json \
                ${MODEL[@]:+--cfg-options "${MODEL[@]}"} | grep '^{' >> "$OUT/benchmark.jsonl" || return 1
        done
    done
    # the arithmetic: full fp32, bf16 autocast, bf16 with channels-last (tf32 is the default)
    local math_size=(256 256) math_batch=8
    [ $SMOKE -eq 1 ] && math_size=(64 64) && math_batch=1
    for math in "--math fp32" "--math bf16" "--math bf16 --channels-last"; do
        # shellcheck disable=SC2086
        "$PY" tools/benchmark.py "$config" --device "$DEVICE" --size "${math_size[@]}" \
            --batch $math_batch $math --runs "$RUNS" --warmup "$WARMUP" --json \
            ${MODEL[@]:+--cfg-options "${MODEL[@]}"} | grep '^{' >> "$OUT/benchmark.jsonl" || return 1
    done
    local train_size=() train_math=(tf32)
    [ $SMOKE -eq 1 ] && train_size=(--size 64 64)
    [ "$DEVICE" = cuda ] && train_math+=(bf16)  # mixed-precision training needs CUDA
    for math in "${train_math[@]}"; do
        "$PY" tools/benchmark.py "$config" --device "$DEVICE" --train --json "${train_size[@]}" \
            --math "$math" --runs "$RUNS" --warmup "$WARMUP" \
            ${MODEL[@]:+--cfg-options "${MODEL[@]}"} | grep '^{' >> "$OUT/benchmark.jsonl" || return 1
    done
    if [ $SMOKE -eq 0 ]; then
        "$PY" tools/benchmark.py "$config" --device "$DEVICE" --size 256 256 --compile --json \
            | grep '^{' >> "$OUT/benchmark.jsonl" || return 1
    fi
}
step benchmark benchmark

# dist: two epochs through torchrun, resume to a third, test
dist() {
    rm -rf "$OUT/dist"
    bash tools/dist_train.sh configs/lol.py 1 --work-dir "$OUT/dist" --cfg-options "${OPTIONS[@]}" \
        train_cfg.max_epochs=2 train_cfg.val_interval=1 default_hooks.checkpoint.interval=1 || return 1
    bash tools/dist_train.sh configs/lol.py 1 --work-dir "$OUT/dist" --resume --cfg-options \
        "${OPTIONS[@]}" train_cfg.max_epochs=3 train_cfg.val_interval=1 \
        default_hooks.checkpoint.interval=1 || return 1
    "$PY" tools/test.py configs/lol.py "$OUT/dist/epoch_3.pth" --work-dir "$OUT/dist/test" \
        --cfg-options "${OPTIONS[@]}"
}
step dist dist

# timed: train for MINUTES (an interrupted run keeps its last checkpoint), then test it
timed() {
    rm -rf "$OUT/timed"
    local limit=$((MINUTES * 60)) epochs=100000
    [ $SMOKE -eq 1 ] && epochs=1
    timeout --signal=INT --kill-after=60 "$limit" bash tools/dist_train.sh configs/lol.py 1 \
        --work-dir "$OUT/timed" --cfg-options "${OPTIONS[@]}" train_cfg.max_epochs=$epochs \
        train_cfg.val_interval=100000 default_hooks.checkpoint.interval=5 \
        default_hooks.checkpoint.save_last=True
    local last
    last=$(cat "$OUT/timed/last_checkpoint" 2>/dev/null) || { echo "no checkpoint saved"; return 1; }
    echo "$last" > "$OUT/timed/tested_checkpoint"
    "$PY" tools/test.py configs/lol.py "$last" --work-dir "$OUT/timed/test" \
        --cfg-options "${OPTIONS[@]}"
}
step timed timed

# The summary line.
"$PY" - "$OUT" "$DEVICE" "$SMOKE" "$MINUTES" <<'EOF'
import json, os, sys
out, device, smoke, minutes = sys.argv[1], sys.argv[2], sys.argv[3] == '1', float(sys.argv[4])

def load(path, default=None):
    try:
        with open(os.path.join(out, path)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default

steps = {}
for line in open(os.path.join(out, 'steps.tsv')):
    name, rc, seconds = line.rstrip('\n').split('\t')
    steps[name] = dict(rc=int(rc), s=float(seconds))
bench = []
if os.path.exists(os.path.join(out, 'benchmark.jsonl')):
    for line in open(os.path.join(out, 'benchmark.jsonl')):
        row = json.loads(line)
        bench.append({k: row[k] for k in ('variant', 'height', 'width', 'batch', 'math', 'channels_last',
                                          's_per_step', 's_per_image',
                                          'samples_per_s', 's_per_iter', 'gflops', 'peak_memory_mb') if k in row})
checkpoint = ''
if os.path.exists(os.path.join(out, 'timed', 'tested_checkpoint')):
    checkpoint = open(os.path.join(out, 'timed', 'tested_checkpoint')).read().strip()
summary = dict(gpu_check=True, device=device, smoke=smoke, minutes=minutes,
               env=load('env.json', {}), ok=all(s['rc'] == 0 for s in steps.values()),
               steps=steps, benchmark=bench,
               dist=(load('dist/test/metrics.json', {}) or {}).get('metrics'),
               timed=dict(checkpoint=os.path.basename(checkpoint),
                          metrics=(load('timed/test/metrics.json', {}) or {}).get('metrics')))
print(json.dumps(summary))
EOF
