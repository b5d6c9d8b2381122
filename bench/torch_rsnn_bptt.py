#!/usr/bin/python3
"""BPTT of the same LIF RSNN in PyTorch (Debian's python3-torch), for scripts/bench: the
mainstream-framework baseline the float reference is measured against.

Same network as `qrsim train` on fmnist-rows: 224 inputs, 128 LIF (tau_m 20 ms, v_th 0.6,
reset by subtraction without gradient, refractory 2), leaky readout (tau_out 20 ms),
cross-entropy over the last 4 of 60 steps (2 steps per image row), pseudo-derivative 0.3/v_th max(0, 1-|x|),
Adam. Input spikes are Bernoulli at the density of the real encoding (the dense
framework's cost does not depend on it).

Usage: torch_rsnn_bptt.py [SAMPLES] [NEURONS] [THREADS] [BATCH ...]
One line per batch size, then the best one. qrsim's bench_train runs batch 32, so batch 32
is the like-for-like row; larger batches are where a dense framework is at its best."""
import math
import os
import sys
import time

THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
# OpenBLAS keeps its own thread pool, which torch.set_num_threads does not reach; left at the
# core count its idle threads spin against the measured one (10x slower on a loaded machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
import torch  # noqa: E402  (after the thread variables, which are read at load time)

N_IN, N_OUT, T, WINDOW = 224, 10, 60, 4
V_TH, GAMMA, REFRACTORY = 0.6, 0.3, 2
ALPHA, KAPPA = math.exp(-1 / 20), math.exp(-1 / 20)


class Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * GAMMA / V_TH * torch.clamp(1 - x.abs(), min=0)


def forward(w_in, w_rec, w_out, b_out, x):
    batch, n_rec = x.shape[1], w_rec.shape[0]
    v = torch.zeros(batch, n_rec)
    z = torch.zeros(batch, n_rec)
    y = torch.zeros(batch, N_OUT)
    refr = torch.zeros(batch, n_rec)
    mask = 1 - torch.eye(n_rec)
    outputs = []
    for t in range(T):
        v = ALPHA * v + x[t] @ w_in.t() + z @ (w_rec * mask).t() - V_TH * z.detach()
        can_fire = (refr == 0).to(v.dtype)
        z = Spike.apply((v - V_TH) / V_TH) * can_fire
        refr = torch.where(z.detach() > 0, torch.full_like(refr, REFRACTORY), torch.clamp(refr - 1, min=0))
        y = KAPPA * y + z @ w_out.t() + b_out
        outputs.append(y)
    return torch.stack(outputs[-WINDOW:])


def samples_per_s(samples, n_rec, batch):
    torch.manual_seed(1)
    w_in = (torch.randn(n_rec, N_IN) / math.sqrt(N_IN)).requires_grad_()
    w_rec = (torch.randn(n_rec, n_rec) / math.sqrt(n_rec)).requires_grad_()
    w_out = (torch.randn(N_OUT, n_rec) / math.sqrt(n_rec)).requires_grad_()
    b_out = torch.zeros(N_OUT, requires_grad=True)
    opt = torch.optim.Adam([w_in, w_rec, w_out, b_out], lr=0.005)
    x_all = (torch.rand(T, samples, N_IN) < 0.05).float()
    labels = torch.randint(0, N_OUT, (samples,))

    def train_batch(b):
        y = forward(w_in, w_rec, w_out, b_out, x_all[:, b:b + batch])
        loss = torch.nn.functional.cross_entropy(y.reshape(-1, N_OUT), labels[b:b + batch].repeat(WINDOW))
        opt.zero_grad()
        loss.backward()
        opt.step()

    train_batch(0)  # untimed: the first pass allocates the autograd and BLAS buffers
    start = time.perf_counter()
    for b in range(0, samples, batch):
        train_batch(b)
    return samples / (time.perf_counter() - start)


def loaded_blas():
    """The BLAS library the process really mapped: Debian builds torch against the generic
    libblas.so.3 interface (BLAS_INFO=generic), and the alternatives system decides at run time
    whether that is the reference BLAS or OpenBLAS."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower()}
    for name in ("openblas", "blis", "atlas", "mkl"):
        if any(name in p for p in paths):
            return name
    return "reference BLAS" if paths else "none mapped"


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    n_rec = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    threads = THREADS
    batches = [int(b) for b in sys.argv[4:]] or [32]
    torch.set_num_threads(threads)
    rates = {}
    for batch in batches:
        # at least 4 batches per measurement, so Adam's first steps do not dominate
        rates[batch] = samples_per_s(max(samples, 4 * batch) // batch * batch, n_rec, batch)
        print(f"torch  bptt   {rates[batch]:8.0f} samples/s  batch {batch:4d}")
    best = max(rates, key=rates.get)
    print(f"torch  best   {rates[best]:8.0f} samples/s  batch {best:4d}  "
          f"(PyTorch {torch.__version__}, float32, {threads} thread{'s' if threads > 1 else ''}, BLAS: {loaded_blas()})")


if __name__ == "__main__":
    main()
