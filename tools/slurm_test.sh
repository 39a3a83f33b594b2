#!/usr/bin/env bash
# Testing on a Slurm cluster, as OpenMMLab's slurm_test.sh: srun starts one task per GPU, each
# running tools/test.py with --launcher slurm.
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# Environment: GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, GRES, PORT as for slurm_train.sh.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: [GPUS=N GPUS_PER_NODE=N CPUS_PER_TASK=N SRUN_ARGS=...] $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
shift 2
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
    "$python_bin" -u "$root/tools/test.py" "$@" --launcher slurm
