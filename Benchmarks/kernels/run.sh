#!/bin/sh
# Builds the kernels with the flags SwiftPM uses for C in release (-O2, no -march) plus this benchmark, into a
# scratch folder outside the package, and runs it: ./run.sh gemm 1 2 | ./run.sh unary
set -e
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/CAutogradKernels"
out=${BENCH_DIR:-/tmp/ag-kernels-bench}
mkdir -p "$out"
clang -O2 -g -fno-omit-frame-pointer -fPIC -I"$src/include" -I"$src" "$src"/*.c "$here/bench.c" -lm -lpthread \
    -o "$out/bench"
exec "$out/bench" "$@"
