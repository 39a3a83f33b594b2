#!/usr/bin/env bash
# Shared by dist_train.sh and dist_test.sh: run SCRIPT on NUM_PROCS processes through torchrun.
# Usage: tools/torchrun.sh [--max-restarts N] NUM_PROCS SCRIPT [script args...]
# Several machines: set NNODES, NODE_RANK, MASTER_ADDR and PORT on each (PORT defaults to a free
# one on a single machine). GPUs use NCCL; CPU-only machines run NUM_PROCS gloo processes.
# --max-restarts N (N > 0; dist_train.sh's MAX_RESTARTS): elastic torchrun, which restarts all
# workers up to N times after one fails, with a c10d rendezvous at MASTER_ADDR:PORT (NODE_RANK is
# then assigned by the rendezvous; RDZV_ID, default rf-PORT, must be the same on every machine).
set -euo pipefail
MAX_RESTARTS=0
if [ "${1:-}" = --max-restarts ]; then
    MAX_RESTARTS=${2:-}
    shift 2 || shift $#
fi
case "$MAX_RESTARTS" in
    ''|*[!0-9]*) echo "$0: --max-restarts needs a number, got '$MAX_RESTARTS'" >&2; exit 2 ;;
esac
if [ $# -lt 2 ]; then
    echo "usage: $0 [--max-restarts N] NUM_PROCS SCRIPT [script args...]" >&2
    exit 2
fi
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
if [ "$MAX_RESTARTS" -gt 0 ]; then
    # A fresh store for every attempt: with the agent's store shared (torch's default) the
    # restarted workers can read the dead workers' addresses and fail to connect
    # (pytorch/pytorch#167288; seen here as gloo's "connectFullMesh failed: Connection refused").
    export TORCH_DISABLE_SHARE_RDZV_TCP_STORE="${TORCH_DISABLE_SHARE_RDZV_TCP_STORE:-1}"
    placement=(--max-restarts="$MAX_RESTARTS" --rdzv-backend=c10d
               --rdzv-endpoint="$MASTER_ADDR:$PORT" --rdzv-id="${RDZV_ID:-rf-$PORT}")
else
    placement=(--node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" --master_port="$PORT")
fi
exec "$python_bin" -m torch.distributed.run \
    --nnodes="$NNODES" --nproc_per_node="$NPROCS" "${placement[@]}" \
    "$root/$SCRIPT" "$@" --launcher pytorch
