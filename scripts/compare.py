#!/usr/bin/env python3
"""Autograd against PyTorch and JAX on the benchmark workloads, in one run on one machine.

    scripts/compare.py [--rounds N] [--markdown] [--peers-python PY] [--baseline EXE] [workload ...]

Builds `autograd` in release mode, then for each round and each workload runs `autograd bench --json` and the
peers' script (scripts/peers.py), one right after the other so that both sides
of a ratio see the same machine, and notes the load average around each round. Then measures the peak memory of
one mlp-grad call, ours (`autograd bench --memory`) and PyTorch's (scripts/peers_memory.py), each in a fresh
process. Prints, per workload, the median over rounds of our time, every peer's time, the best peer, the ratio,
and the workload's target (Benchmarks/README.md) with MET or MISSED. For sparse-jacobian, whose lines carry the
peak resident-set growth of each side (`rss_growth_bytes`), it also prints a memory table; a peer that could not
finish (its line has "seconds": null, e.g. a dense Jacobian that ran out of time or memory) is listed with its
note and counts as no time.

It installs nothing and needs only Python 3 itself. The peers' Python is the first that exists of:
--peers-python, $AUTOGRAD_PEERS_PYTHON, .peers/bin/python at the repository root.
Install the peers into such a virtual environment (outside git; PyTorch brings several GB; it runs on the CPU):

    python3 -m venv .peers && .peers/bin/pip install torch jax numpy

Without the peers it still runs our benchmark and says what is missing.

To judge a change, pass the previous build's executable as --baseline: each round then runs it right after ours,
workload by workload (the two alternate in one run), and the tables add its time and the ratio new / baseline
("autograd.baseline" in the raw measurements; it never counts as a peer).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ["logistic-vjp", "logistic-jvp", "logistic-jacobian", "mlp-grad", "mlp-hvp", "jac-256", "chain-500",
             "gemm-1024", "cnn-grad", "attention-grad", "per-example-grad", "cholesky-logdet-grad",
             "sparse-jacobian"]
# sparse-jacobian's peers: the dense Jacobians (the target is 100× faster than the faster of them) and the
# hand-coloured references (the target is no slower than jax.jit's).
SPARSE_DENSE_PEERS = ("jax.jit(jacfwd)", "torch.func.jacfwd")
# Workloads whose target is a factor of the fastest peer, whatever it is.
BEST_PEER_FACTORS = {"cnn-grad": 1.2, "attention-grad": 1.2, "per-example-grad": 1.0, "cholesky-logdet-grad": 1.5}
SPARSE_COLORED_REFERENCE = "jax.jit-colored(5)"
INSTALL_HINT = """The peers (PyTorch, JAX, NumPy) were not found. Install them into a virtual environment outside git:
    python3 -m venv .peers && .peers/bin/pip install torch jax numpy
and run this script again, or point it at an existing one:
    AUTOGRAD_PEERS_PYTHON=/path/to/venv/bin/python scripts/compare.py
                                              (or --peers-python /path/to/venv/bin/python)"""


# MARK: - Running the two sides

def log(message):
    print(message, file=sys.stderr, flush=True)


def find_peers_python(option):
    candidates = [option, os.environ.get("AUTOGRAD_PEERS_PYTHON"), os.path.join(ROOT, ".peers", "bin", "python")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    if option or os.environ.get("AUTOGRAD_PEERS_PYTHON"):
        sys.exit(f"compare.py: no Python at {option or os.environ['AUTOGRAD_PEERS_PYTHON']}\n\n{INSTALL_HINT}")
    return None


def build(scratch_path):
    command = ["swift", "build", "-c", "release", "--product", "autograd"]
    if scratch_path:
        command += ["--scratch-path", scratch_path]
    log("building: " + " ".join(command))
    subprocess.run(command, cwd=ROOT, check=True, stdout=sys.stderr)
    bin_path = subprocess.run(command + ["--show-bin-path"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()
    return os.path.join(bin_path, "autograd")


def json_lines(command, what):
    """Runs a command and returns the JSON objects it printed, one a line (other lines are ignored)."""
    log(f"running {what}: " + " ".join(command))
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    objects = []
    for line in completed.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    if completed.returncode != 0:
        log(f"{what} exited with status {completed.returncode}:\n{completed.stderr.strip()[-2000:]}")
    return objects


def load_average():
    return tuple(round(x, 2) for x in os.getloadavg())


def wait_for_quiet(threshold, patience=300):
    """Waits (at most `patience` seconds) until the 1-minute load average is below `threshold`, if one is given."""
    if threshold is None:
        return
    start = time.monotonic()
    while os.getloadavg()[0] >= threshold and time.monotonic() - start < patience:
        log(f"load average {os.getloadavg()[0]:.2f} ≥ {threshold}: waiting")
        time.sleep(15)


def save(path, raw, loads, memory):
    """Writes every measurement so far to `path` (if given), so that a long run interrupted keeps its rounds."""
    if path:
        with open(path, "w") as f:
            json.dump({"date": datetime.datetime.now().isoformat(), "cpu": cpu_model(), "loads": loads,
                       "measurements": raw, "memory": memory}, f, indent=1)


# MARK: - Targets

# The compiled path's targets: a factor of jax.jit's time, or of the best peer's.
COMPILED_JIT_FACTORS = {"chain-500": 0.5, "logistic-vjp": 0.5, "logistic-jvp": 0.5, "logistic-jacobian": 0.5,
                        "attention-grad": 0.9}
COMPILED_BEST_PEER_FACTORS = {"mlp-grad": 0.9, "mlp-hvp": 0.9}


def compiled_summary(workloads, times):
    """Rows comparing autograd.compiled with eager autograd and with its target, for workloads that have it."""
    rows = []
    for w in workloads:
        t = times[w]
        ours = t.get("autograd.compiled")
        if ours is None:
            continue
        eager = t.get("autograd")
        limit, description = None, "—"
        if w in COMPILED_JIT_FACTORS:
            jit = fastest(t, "jax.jit")
            if jit:
                limit = COMPILED_JIT_FACTORS[w] * jit[0]
                description = f"≤ {fmt(limit)} ({COMPILED_JIT_FACTORS[w]}× {jit[1]})"
        elif w in COMPILED_BEST_PEER_FACTORS:
            peers = [(s, system) for system, s in t.items() if not system.startswith("autograd")]
            if peers:
                best = min(peers)
                limit = COMPILED_BEST_PEER_FACTORS[w] * best[0]
                description = f"≤ {fmt(limit)} ({COMPILED_BEST_PEER_FACTORS[w]}× {best[1]})"
        rows.append([w, fmt(ours), fmt(eager) if eager is not None else "—",
                     ratio(ours, eager) if eager is not None else "—", description,
                     status(None if limit is None else ours <= limit)])
    return rows


def fastest(times, prefix):
    """(seconds, system) of the fastest peer system whose name starts with `prefix`, or None."""
    matches = [(s, system) for system, s in times.items() if system != "autograd" and system.startswith(prefix)]
    return min(matches) if matches else None


def target(workload, times, gflops):
    """(description, limit in seconds or None, met or None) for the issue's target on this workload."""
    ours = times.get("autograd")
    if workload in ("logistic-vjp", "logistic-jvp", "logistic-jacobian", "chain-500"):
        torch, jit = fastest(times, "torch"), fastest(times, "jax.jit")
        if not torch or not jit:
            return "≥5× faster than PyTorch eager, ≤2× jax.jit (peers missing)", None, None
        limit = min(torch[0] / 5, 2 * jit[0])
        return f"≤ {fmt(limit)} (PyTorch/5 = {fmt(torch[0] / 5)}, 2×jax.jit = {fmt(2 * jit[0])})", limit, \
            None if ours is None else ours <= limit
    if workload in ("mlp-grad", "mlp-hvp"):
        best = min(filter(None, [fastest(times, "torch"), fastest(times, "jax.jit")]), default=None)
        if not best:
            return "≤1.1× best of PyTorch and jax.jit (peers missing)", None, None
        limit = 1.1 * best[0]
        return f"≤ {fmt(limit)} (1.1× {best[1]})", limit, None if ours is None else ours <= limit
    if workload in BEST_PEER_FACTORS:
        factor = BEST_PEER_FACTORS[workload]
        best = min((s, system) for system, s in times.items() if not system.startswith("autograd")) \
            if any(not system.startswith("autograd") for system in times) else None
        if not best:
            return f"≤{factor}× the best peer (peers missing)", None, None
        limit = factor * best[0]
        return f"≤ {fmt(limit)} ({factor}× {best[1]})", limit, None if ours is None else ours <= limit
    if workload == "jac-256":
        jacrev = times.get("torch.func.jacrev")
        if jacrev is None:
            return "≤ torch.func.jacrev (peer missing)", None, None
        return f"≤ {fmt(jacrev)} (torch.func.jacrev)", jacrev, None if ours is None else ours <= jacrev
    if workload == "sparse-jacobian":
        dense = [(times[p], p) for p in SPARSE_DENSE_PEERS if times.get(p) is not None]
        colored = times.get(SPARSE_COLORED_REFERENCE)
        if not dense or colored is None:
            missing = [p for p in SPARSE_DENSE_PEERS + (SPARSE_COLORED_REFERENCE,) if times.get(p) is None]
            if not dense and colored is None:
                return f"≥100× faster than dense jacfwd, ≤ {SPARSE_COLORED_REFERENCE} (no time from {', '.join(missing)})", \
                    None, None
            limit = min([d[0] / 100 for d in dense] + ([colored] if colored is not None else []))
            return f"≤ {fmt(limit)} (partial: no time from {', '.join(missing)})", limit, \
                None if ours is None else ours <= limit
        best = min(dense)
        limit = min(best[0] / 100, colored)
        return f"≤ {fmt(limit)} ({best[1]}/100 = {fmt(best[0] / 100)}, {SPARSE_COLORED_REFERENCE} = {fmt(colored)})", \
            limit, None if ours is None else ours <= limit
    if workload == "gemm-1024":
        peers = {s: g for s, g in gflops.items() if not s.startswith("autograd")}
        if not peers:
            return "≥80% of the best peer's GFLOP/s (peers missing)", None, None
        best_system = max(peers, key=peers.get)
        needed = 0.8 * peers[best_system]
        limit = 2 * 1024 ** 3 / needed / 1e9
        ours_gflops = gflops.get("autograd")
        return f"≥ {needed:.0f} GFLOP/s (80% of {best_system})", limit, \
            None if ours_gflops is None else ours_gflops >= needed
    return "", None, None


# MARK: - Formatting

def fmt(seconds):
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def ratio(ours, theirs):
    """ours / theirs, e.g. 1.72×; under 0.01 with how many times faster ours is (sparse against dense Jacobians)."""
    r = ours / theirs
    return f"{r:.2f}×" if r >= 0.01 else f"{r:.1e}× ({theirs / ours:,.0f}× faster)"


def status(met):
    return {True: "MET", False: "MISSED", None: "—"}[met]


def mib(n):
    return "—" if n is None else f"{n / 1048576:.2f} MiB"


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown(rows, header):
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# MARK: - Main

def measure(args, workloads):
    """Runs both sides: (every measurement with its round, load averages around each round, memory records)."""
    peers_python = find_peers_python(args.peers_python)
    if peers_python is None:
        log(INSTALL_HINT + "\n\nContinuing with our side only.\n")
    autograd = args.autograd or build(args.scratch_path)

    raw = []       # every measurement, with its round
    loads = []     # load averages before and after each round
    for round_index in range(args.rounds):
        before = load_average()
        # Workload by workload, ours then the peers', so both sides of a ratio see the same machine.
        for w in workloads:
            wait_for_quiet(args.quiet_load)
            for record in json_lines([autograd, "bench", "--json", w], f"autograd {w} (round {round_index + 1})"):
                raw.append(dict(record, round=round_index))
            if args.baseline:
                for record in json_lines([args.baseline, "bench", "--json", w],
                                         f"baseline {w} (round {round_index + 1})"):
                    raw.append(dict(record, system="autograd.baseline", round=round_index))
            if peers_python:
                for record in json_lines([peers_python, args.peers_script, w], f"peers {w} (round {round_index + 1})"):
                    if "workload" in record:
                        raw.append(dict(record, round=round_index))
        loads.append((before, load_average()))
        save(args.output, raw, loads, [])

    memory = []
    if not args.no_memory and "mlp-grad" in workloads:
        memory += json_lines([autograd, "bench", "--memory", "--json"], "autograd memory")
        if peers_python:
            memory += json_lines([peers_python, os.path.join(ROOT, "scripts", "peers_memory.py")], "torch memory")
    save(args.output, raw, loads, memory)
    return raw, loads, memory


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("workloads", nargs="*", metavar="workload", help="workloads to run (default: all)")
    parser.add_argument("--rounds", type=int, default=1, help="run both sides this many times; report medians")
    parser.add_argument("--peers-python", help="the Python that has torch, jax and numpy")
    parser.add_argument("--peers-script", default=os.path.join(ROOT, "scripts", "peers.py"),
                        help="the peers' timing script (default: scripts/peers.py)")
    parser.add_argument("--scratch-path", default=os.environ.get("AUTOGRAD_SCRATCH_PATH"),
                        help="SwiftPM build folder (default: SwiftPM's .build, or $AUTOGRAD_SCRATCH_PATH)")
    parser.add_argument("--autograd", help="use this autograd executable instead of building one")
    parser.add_argument("--baseline", help="an earlier autograd executable, run right after ours in every round")
    parser.add_argument("--quiet-load", type=float, metavar="LOAD",
                        help="before each workload, wait (up to 5 minutes) for the 1-minute load average to drop "
                             "below this")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory comparison")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--output", help="also write every raw measurement to this JSON file (after each round)")
    parser.add_argument("--replay", metavar="FILE", help="print the tables of a run saved with --output, running nothing")
    args = parser.parse_args()
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; the workloads are {', '.join(WORKLOADS)}")
    workloads = args.workloads or WORKLOADS

    if args.replay:
        with open(args.replay) as f:
            saved = json.load(f)
        raw, loads, memory = saved["measurements"], [tuple(map(tuple, l)) for l in saved["loads"]], saved["memory"]
    else:
        raw, loads, memory = measure(args, workloads)
    rounds = len(loads)

    # Medians over rounds, per workload and system.
    # A line with "seconds": null (a peer that could not finish) counts as no time; its note is printed.
    times, gflops, errors, notes, resident = {}, {}, {}, {}, {}
    for w in workloads:
        samples, rates, growth = {}, {}, {}
        for r in raw:
            if r.get("workload") != w:
                continue
            if "error" in r:
                errors[(w, r["system"])] = r["error"]
            if r.get("seconds") is None and "note" in r:
                notes.setdefault((w, r["system"]), []).append(r["note"])
            if r.get("seconds") is not None:
                samples.setdefault(r["system"], []).append(r["seconds"])
            if r.get("gflops") is not None:
                rates.setdefault(r["system"], []).append(r["gflops"])
            for key in ("rss_growth_bytes", "max_rss_seen_bytes"):
                if r.get(key) is not None:
                    growth.setdefault((r["system"], key), []).append(r[key])
        times[w] = {s: statistics.median(v) for s, v in samples.items()}
        gflops[w] = {s: statistics.median(v) for s, v in rates.items()}
        resident[w] = {k: max(v) for k, v in growth.items()}

    render = markdown if args.markdown else table
    out = []
    versions = next((m.get("versions") for m in memory if "versions" in m), None)
    out.append(f"{datetime.date.today().isoformat()}, {cpu_model()}, {os.cpu_count()} cores, "
               f"{rounds} round(s), medians over rounds")
    out.append("load average (1, 5, 15 min) before → after each round: "
               + "; ".join(f"{b[0]:.2f}, {b[1]:.2f}, {b[2]:.2f} → {a[0]:.2f}, {a[1]:.2f}, {a[2]:.2f}"
                           for b, a in loads))
    if versions:
        out.append("peers: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    out.append("")

    summary, detail, versus = [], [], []
    for w in workloads:
        t = times[w]
        ours = t.get("autograd")
        peers = sorted((s, system) for system, s in t.items() if not system.startswith("autograd"))
        baseline = t.get("autograd.baseline")
        if baseline is not None:
            versus.append([w, fmt(baseline), fmt(ours), f"{ours / baseline:.2f}×" if ours is not None else "—"])
        best = peers[0] if peers else None
        description, limit, met = target(w, t, gflops[w])
        ours_text = fmt(ours) if ours is not None else ("FAILED" if (w, "autograd") in errors else "—")
        if w == "gemm-1024" and "autograd" in gflops[w]:
            ours_text += f" ({gflops[w]['autograd']:.1f} GFLOP/s)"
        versus_best = ratio(ours, best[0]) if ours is not None and best else "—"
        needed = f"{ours / limit:.1f}×" if ours is not None and limit and not met else ""
        summary.append([w, ours_text, f"{fmt(best[0])} {best[1]}" if best else "—", versus_best, description,
                        status(met), needed])
        for s, system in peers:
            rate = f" ({gflops[w][system]:.0f} GFLOP/s)" if system in gflops[w] else ""
            detail.append([w, system, fmt(s) + rate, ratio(ours, s) if ours is not None else "—"])

    out.append(render(summary, ["workload", "autograd", "best peer", "autograd / best", "target",
                                "status", "speed-up needed"]))
    if detail:
        out += ["", "Every peer (ratio = autograd time / peer time; below 1 means autograd is faster):", ""]
        out.append(render(detail, ["workload", "peer", "time", "autograd / peer"]))
    compiled_rows = compiled_summary(workloads, times)
    if compiled_rows:
        out += ["", "Compiled (autograd.compiled: traced once, replayed; ratio below 1 means faster):", ""]
        out.append(render(compiled_rows, ["workload", "compiled", "eager", "compiled / eager", "target", "status"]))
    if versus:
        out += ["", "Against the baseline executable, run alternately with ours (below 1 means the new build is "
                "faster):", ""]
        out.append(render(versus, ["workload", "baseline", "autograd", "autograd / baseline"]))
    for (w, system), message in errors.items():
        out.append(f"\n{w} ({system}): {message}")
    if notes:
        out += ["", "Systems that did not finish (\"seconds\": null), with their notes:", ""]
        out.append(render([[w, system, "; ".join(sorted(set(n)))] for (w, system), n in notes.items()],
                          ["workload", "system", "note"]))

    for w in workloads:
        if not resident.get(w):
            continue
        systems = sorted({system for system, _ in resident[w]}, key=lambda s: (not s.startswith("autograd"), s))
        rows = [[system, fmt(times[w].get(system)), mib(resident[w].get((system, "rss_growth_bytes"))),
                 mib(resident[w].get((system, "max_rss_seen_bytes")))] for system in systems]
        out += ["", f"{w}: time and peak resident-set growth over the first call and the timing (largest over "
                "rounds; each peer in a child process of its own):", ""]
        out.append(render(rows, ["system", "time", "RSS growth", "max RSS seen (not finished)"]))

    if memory:
        rows = []
        for m in memory:
            rows.append([m.get("system"), mib(m.get("peak_tensor_bytes")), mib(m.get("rss_growth_bytes")),
                         mib(m.get("max_rss_before_bytes"))])
        out += ["", "Peak memory of one mlp-grad call (each in a fresh process):", ""]
        out.append(render(rows, ["system", "peak tensor bytes above inputs", "max-RSS growth (first call)",
                                 "max RSS before"]))
        out.append("(autograd: StorageStatistics.peakBytes and getrusage; torch: torch.profiler's memory timeline "
                   "of a second call and getrusage over the first)")
        for m in memory:
            if "profiler_error" in m:
                out.append(f"torch profiler: {m['profiler_error']}")

    print("\n".join(out))


if __name__ == "__main__":
    main()
