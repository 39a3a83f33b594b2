# Sourced by the tools' shell wrappers: glibc malloc keeps freed memory for reuse instead of
# returning every large tensor to the kernel and page-faulting it in again at the next step.
# Measured on the 2-core CPU: training steps 1.27x faster, network steps up to 1.4x
# (docs/benchmarks.md). Values you set yourself win; RF_MALLOC_DEFAULTS=0 leaves malloc alone, and
# so do GPU machines (NVIDIA devices not hidden by CUDA_VISIBLE_DEVICES or RF_DEVICE=cpu), as in
# rf/cli/malloc_defaults.py.
_rf_gpu=0
if compgen -G '/dev/nvidia[0-9]*' > /dev/null && [ "${RF_DEVICE:-}" != cpu ] \
        && [ "${CUDA_VISIBLE_DEVICES-unset}" != "" ] && [ "${CUDA_VISIBLE_DEVICES:-}" != "-1" ]; then
    _rf_gpu=1
fi
if [ "${RF_MALLOC_DEFAULTS:-1}" != 0 ] && [ "$_rf_gpu" = 0 ]; then
    export MALLOC_MMAP_MAX_="${MALLOC_MMAP_MAX_:-0}"
    export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-2147483647}"
    export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-67108864}"
fi
