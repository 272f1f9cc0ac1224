#!/bin/sh
# Builds the kernels with the flags SwiftPM uses for C in release (-O2, no -march) plus one of the tools here,
# in a scratch folder outside the package, and runs it:
#   ./run.sh gemm 1 2      matrix-product GFLOP/s with 1 and 2 threads
#   ./run.sh unary         ns per element of the float maps (level 2 vs level 0)
#   ./run.sh misc          broadcasting, reductions, copies
#   ./run.sh ulp all 2 7   accuracy of the float maps (see ulp.c)
set -e
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/CAutogradKernels"
out=${BENCH_DIR:-/tmp/ag-kernels-bench}
tool=bench
if [ "$1" = ulp ]; then tool=ulp; shift; fi
mkdir -p "$out"
clang -O2 -g -fno-omit-frame-pointer -fPIC -I"$src/include" -I"$src" "$src"/*.c "$here/$tool.c" -lm -lpthread \
    -o "$out/$tool"
exec "$out/$tool" "$@"
