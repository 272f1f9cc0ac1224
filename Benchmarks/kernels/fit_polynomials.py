# Minimax (Lawson's iteratively reweighted least squares) fits of the polynomial cores of the vector float math
# in Sources/CAutogradKernels/vmath.h, minimizing the relative error of the function, with the references
# evaluated in mpmath. Prints the coefficients rounded to float for several degrees: python3 fit_polynomials.py
import mpmath as mp, numpy as np, struct
mp.mp.dps = 40
def f32(x): return struct.unpack('f', struct.pack('f', float(x)))[0]

def lawson(target, basis, weight, lo, hi, npts=2000, iters=300):
    # minimize max_x |weight(x) * (target(x) - sum c_i basis_i(x))|
    xs = [lo + (hi-lo)*(1 - mp.cos(mp.pi*(i+0.5)/npts))/2 for i in range(npts)]
    A = np.array([[float(weight(x)*b(x)) for b in basis] for x in xs])
    y = np.array([float(weight(x)*target(x)) for x in xs])
    w = np.ones(npts)/npts
    for it in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A*sw[:,None], y*sw, rcond=None)
        e = np.abs(A@c - y)
        w = w*e; w /= w.sum()
    return c, e.max()

def report(name, c, err):
    print(name, "max weighted err %.3e" % err, "(%.1f bits)" % -np.log2(err))
    for v in c: print("   %.9ef  /* %a */" % (f32(v), f32(v)))

# (a) expm1(r) = r + r^2/2 + r^3 Q(r), r in [-ln2/2, ln2/2], relative error of expm1
L = mp.log(2)/2
for deg in [3,4,5]:
    basis = [lambda x, i=i: x**(3+i) for i in range(deg+1)]
    c, err = lawson(lambda x: mp.expm1(x) - x - x*x/2 if x != 0 else mp.mpf(0), basis, lambda x: 1/mp.expm1(x) if x != 0 else 1, -L, L)
    report("expm1 Q deg %d" % deg, c, err)

# (b) log1p(f) = f - f^2/2 + f^3 P(f), f in [sqrt(1/2)-1, sqrt(2)-1], relative error
lo, hi = mp.sqrt(0.5)-1, mp.sqrt(2)-1
for deg in [6,7,8]:
    basis = [lambda x, i=i: x**(3+i) for i in range(deg+1)]
    c, err = lawson(lambda x: mp.log1p(x) - x + x*x/2, basis, lambda x: 1/mp.log1p(x) if x != 0 else 1, lo, hi)
    report("log1p P deg %d" % deg, c, err)

# (c) tanh(x) = x + x^3 T(x^2), x in [0, 0.625]
for hi in [0.55, 0.625]:
  for deg in [4,5,6]:
    basis = [lambda x, i=i: x**(3+2*i) for i in range(deg+1)]
    c, err = lawson(lambda x: mp.tanh(x) - x, basis, lambda x: 1/mp.tanh(x) if x != 0 else 1, mp.mpf('1e-6'), mp.mpf(hi))
    report("tanh hi=%g T deg %d" % (hi, deg), c, err)

# (d) sin(r) = r + r^3 S(r^2), cos(r) = 1 - r^2/2 + r^4 C(r^2), r in [0, pi/4]
for deg in [2,3,4]:
    basis = [lambda x, i=i: x**(3+2*i) for i in range(deg+1)]
    c, err = lawson(lambda x: mp.sin(x) - x, basis, lambda x: 1/mp.sin(x), mp.mpf('1e-6'), mp.pi/4)
    report("sin S deg %d" % deg, c, err)
    basis = [lambda x, i=i: x**(4+2*i) for i in range(deg+1)]
    c, err = lawson(lambda x: mp.cos(x) - 1 + x*x/2, basis, lambda x: 1/mp.cos(x), mp.mpf(0), mp.pi/4)
    report("cos C deg %d" % deg, c, err)
