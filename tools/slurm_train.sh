#!/usr/bin/env bash
# Training on a Slurm cluster, as OpenMMLab's slurm_train.sh: srun starts one task per GPU, each
# running tools/train.py with --launcher slurm (rank, world size and master node from Slurm).
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]
# Environment: GPUS (tasks in all, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default
# 5), SRUN_ARGS (more srun options, e.g. "--quotatype=auto"), GRES (default gpu:GPUS_PER_NODE;
# set it empty for CPU-only nodes, which then train with gloo), PORT (master port, default 29500).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: [GPUS=N GPUS_PER_NODE=N CPUS_PER_TASK=N SRUN_ARGS=...] $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
work_dir=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then  # a 4th argument that is not an option: WORK_DIR
    work_dir=(--work-dir "$1")
    shift
fi
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:$GPUS_PER_NODE}
read -r -a srun_args <<< "${SRUN_ARGS:-}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PYTHON:-$( [ -x "$root/.venv/bin/python" ] && echo "$root/.venv/bin/python" || echo python )}"
source "$root/tools/malloc_env.sh"
export MASTER_PORT="${PORT:-${MASTER_PORT:-29500}}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec srun -p "$PARTITION" --job-name="$JOB_NAME" ${GRES:+--gres="$GRES"} \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 "${srun_args[@]}" \
    "$python_bin" -u "$root/tools/train.py" "$CONFIG" "${work_dir[@]}" "$@" --launcher slurm
