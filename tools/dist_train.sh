#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# NNODES, NODE_RANK, MASTER_ADDR, PORT for several machines (see tools/torchrun.sh).
# Elastic: MAX_RESTARTS=N restarts all workers (up to N times) when one fails, through a c10d
# rendezvous at MASTER_ADDR:PORT; a restarted worker resumes from the work dir's last complete
# checkpoint by itself (rf/engine/resume.py), so no --resume is needed. Default 0: plain torchrun.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: [MAX_RESTARTS=N] $0 CONFIG NUM_PROCS [train.py options]" >&2
    exit 2
fi
elastic=()
if [ "${MAX_RESTARTS:-0}" != 0 ]; then
    elastic=(--max-restarts "$MAX_RESTARTS")
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/torchrun.sh" "${elastic[@]}" "$2" tools/train.py "$1" "${@:3}"
