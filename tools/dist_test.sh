#!/usr/bin/env bash
# Distributed testing: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
# NNODES, NODE_RANK, MASTER_ADDR, PORT for several machines (see tools/torchrun.sh).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py options]" >&2
    exit 2
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "$3" tools/test.py "$1" "$2" "${@:4}"
