#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# NNODES, NODE_RANK, MASTER_ADDR, PORT for several machines (see tools/torchrun.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NUM_PROCS [train.py options]" >&2
    exit 2
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "$2" tools/train.py "$1" "${@:3}"
