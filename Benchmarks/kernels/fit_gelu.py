# The polynomial of the exact GELU's float kernel (normal_tail in Sources/CAutogradKernels/vmath.h):
# erfc z = t P(t) e^(-z^2) with t = 1 / (1 + z/2), P of degree 10 in u = t - 0.58, fitted to erfcx(z) / t over
# z in [0, 10.5] (t in [1/6.25, 1]) for the smallest relative error, by Lawson's iteratively reweighted least
# squares on Chebyshev nodes, the reference evaluated in mpmath. Prints the coefficients rounded to float, lowest
# degree first, and the float evaluation's largest relative error on a dense grid: python3 fit_gelu.py
import mpmath as mp, numpy as np, struct
mp.mp.dps = 40
def f32(x): return struct.unpack('f', struct.pack('f', float(x)))[0]

DEGREE, CENTER, ZMAX = 10, 0.58, 10.5
tlo = 1 / (1 + ZMAX / 2)
npts = 1500
ts = [tlo + (1 - tlo) * (1 - mp.cos(mp.pi * (i + 0.5) / npts)) / 2 for i in range(npts)]
target = [mp.erfc(2 * (1 / t - 1)) * mp.exp((2 * (1 / t - 1)) ** 2) / t for t in ts]
A = np.array([[float((t - CENTER) ** d / f) for d in range(DEGREE + 1)] for t, f in zip(ts, target)])
y = np.ones(npts)
w = np.ones(npts) / npts
for _ in range(200):
    sw = np.sqrt(w)
    c, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
    e = np.abs(A @ c - y)
    w = w * e
    w /= w.sum()
print("relative error of the fit %.2e" % e.max())
c32 = [f32(v) for v in c]
for v in c32: print("   %.9ef" % v)
# The float evaluation (Horner with fused multiply-adds emulated in double, each step rounded to float).
worst = 0.0
for i in range(20001):
    t = tlo + (1 - tlo) * i / 20000
    u = f32(f32(t) - CENTER)
    p = c32[-1]
    for v in reversed(c32[:-1]): p = f32(p * u + v)
    z = 2 * (1 / mp.mpf(t) - 1)
    worst = max(worst, abs(p / float(mp.erfc(z) * mp.exp(z * z) / t) - 1))
print("float evaluation: largest relative error %.2e" % worst)
