#!/usr/bin/env python3
"""Peak memory of one PyTorch mlp-grad call, for comparison with `autograd bench --memory`.

Run it in a fresh process (scripts/compare.py does). Prints one JSON line:

  {"workload": "mlp-grad", "system": "torch", "peak_tensor_bytes": ..., "rss_growth_bytes": ...,
   "max_rss_before_bytes": ..., "versions": {...}}

- rss_growth_bytes: growth of the process's maximum resident set (getrusage ru_maxrss) over the FIRST call in
  this process, like `autograd bench --memory` measures ours.
- peak_tensor_bytes: the peak of tensor bytes allocated during a second call above what existed before it, from
  torch.profiler's memory timeline (CPU allocations of tensors; comparable to our StorageStatistics.peakBytes).
  Omitted, with "profiler_error", if this PyTorch's profiler cannot give it.

Shapes and data are those of peers.py's mlp-grad, except that the parameters are made leaves requiring gradients
once, before the call, instead of being cloned inside it: both systems then start from the same tensors.
"""
import json
import resource
import sys


def max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main():
    import torch

    torch.manual_seed(0)
    batch = 128
    X = torch.randn(batch, 784)
    T = torch.randint(0, 10, (batch,))
    params = [torch.randn(784, 512) * 0.03, torch.zeros(512), torch.randn(512, 512) * 0.04,
              torch.zeros(512), torch.randn(512, 10) * 0.04, torch.zeros(10)]
    params = [p.requires_grad_() for p in params]

    def loss(ps):
        W1, b1, W2, b2, W3, b3 = ps
        h = torch.tanh(X @ W1 + b1)
        h = torch.tanh(h @ W2 + b2)
        return torch.nn.functional.cross_entropy(h @ W3 + b3, T)

    before = max_rss_bytes()
    grads = torch.autograd.grad(loss(params), params)
    growth = max_rss_bytes() - before
    del grads

    result = {"workload": "mlp-grad", "system": "torch", "rss_growth_bytes": growth, "max_rss_before_bytes": before}
    try:
        result["peak_tensor_bytes"] = profiled_peak(torch, lambda: torch.autograd.grad(loss(params), params))
    except Exception as error:  # private profiler API: report, don't fail
        result["profiler_error"] = f"{type(error).__name__}: {error}"
    versions = {"torch": torch.__version__, "python": sys.version.split()[0]}
    try:
        import jax
        versions["jax"] = jax.__version__
    except ImportError:
        pass
    result["versions"] = versions
    print(json.dumps(result), flush=True)


def profiled_peak(torch, call):
    """Peak bytes of CPU tensors created during `call` and alive at once, from the profiler's memory timeline."""
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import Action, MemoryProfileTimeline

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as prof:
        result = call()
        del result
    timeline = MemoryProfileTimeline(prof._memory_profile())
    cpu = torch.device("cpu")
    live = peak = 0
    for _, action, (key, _), size in timeline.timeline:
        if key.device != cpu or action == Action.PREEXISTING:
            continue
        if action == Action.CREATE:
            live += size
        elif action == Action.DESTROY:
            live -= size
        peak = max(peak, live)
    return peak


if __name__ == "__main__":
    main()
