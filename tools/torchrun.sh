#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: run SCRIPT on NUM_PROCS processes through torchrun.
# Usage: tools/torchrun.sh NUM_PROCS SCRIPT [script args...]
# Several machines: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each (PORT defaults to a free
# one on a single machine). GPUs use NCCL; CPU-only machines run NUM_PROCS gloo processes.
set -euo pipefail
NPROCS=$1
SCRIPT=$2
shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PYTHON:-$( [ -x "$root/.venv/bin/python" ] && echo "$root/.venv/bin/python" || echo python3 )}"
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
if [ -z "${MASTER_ADDR:-}" ]; then
    if [ "$NNODES" -gt 1 ]; then
        echo "$0: set MASTER_ADDR (the address of the NODE_RANK=0 machine, the same on every machine) for a multi-machine run" >&2
        exit 2
    fi
    MASTER_ADDR=127.0.0.1
fi
case "$NPROCS" in
    ''|*[!0-9]*|0) echo "$0: NUM_PROCS must be a positive number, got '$NPROCS'" >&2; exit 2 ;;
esac
# Once here rather than in every rank: CUDA usable where GPUs are expected (RF_DEVICE=cpu runs on
# the CPU on purpose), and no more processes than visible GPUs.
"$python_bin" -c "import sys; sys.path.insert(0, '$root'); from rf.engine.distributed import check_launch; from rf.cli.errors import run_cli; sys.exit(run_cli(lambda: check_launch($NPROCS)) and 2)"
if [ -z "${PORT:-}" ]; then
    if [ "$NNODES" -gt 1 ]; then
        echo "$0: set PORT (the same on every machine) for a multi-machine run" >&2
        exit 2
    fi
    PORT=$("$python_bin" -c "import socket; s=socket.socket(); s.bind(('', 0)); print(s.getsockname()[1])")
fi
source "$root/tools/malloc_env.sh"
# One thread per process unless told otherwise: N processes share the machine's cores.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$python_bin" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROCS" --master_port="$PORT" \
    "$root/$SCRIPT" "$@" --launcher pytorch
