# The same measurements with NumPy (OpenBLAS for the products), for comparison: python3 numpy_compare.py
import time
import numpy as np

def best_median(f, runs=15):
    f()
    t = time.perf_counter(); f(); one = time.perf_counter() - t
    reps = max(1, int(0.02 / max(one, 1e-7)))
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(reps): f()
        ts.append((time.perf_counter() - t) / reps)
    ts.sort()
    return ts[0], ts[len(ts) // 2]

def gemm(m, k, n, ta=False, tb=False, name=""):
    a = np.random.rand(k, m).astype(np.float32).T if ta else np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(n, k).astype(np.float32).T if tb else np.random.rand(k, n).astype(np.float32)
    best, med = best_median(lambda: a @ b)
    fl = 2.0 * m * n * k
    print(f"{name:24s} best {fl / best / 1e9:6.1f} med {fl / med / 1e9:6.1f} GFLOP/s")

for args in [(1024, 1024, 1024, 0, 0, "1024^3"), (128, 784, 512, 0, 0, "(128x784)(784x512)"),
             (128, 512, 512, 0, 0, "(128x512)(512x512)"), (128, 512, 10, 0, 0, "(128x512)(512x10)"),
             (784, 128, 512, 1, 0, "(128x784)^T(128x512)"), (512, 128, 10, 1, 0, "(128x512)^T(128x10)"),
             (128, 512, 784, 0, 1, "(128x512)(784x512)^T"), (128, 10, 512, 0, 1, "(128x10)(512x10)^T"),
             (256, 256, 256, 0, 0, "256^3"), (256, 256, 1, 0, 0, "(256x256)(256x1)"),
             (2048, 2048, 2048, 0, 0, "2048^3")]:
    gemm(*args)

x = (np.random.rand(65536).astype(np.float32) * 20 - 10)
xp = np.abs(x) + 1e-3
y = np.empty_like(x)
for name, f in [("exp", lambda: np.exp(x, out=y)), ("log", lambda: np.log(xp, out=y)),
                ("tanh", lambda: np.tanh(x, out=y)),
                ("sigmoid", lambda: np.reciprocal(np.add(1, np.exp(-x, out=y), out=y), out=y)),
                ("sin", lambda: np.sin(x, out=y)), ("sqrt", lambda: np.sqrt(xp, out=y))]:
    best, med = best_median(f)
    print(f"{name:10s} best {best / 65536 * 1e9:7.3f} med {med / 65536 * 1e9:7.3f} ns/elem")
