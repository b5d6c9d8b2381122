#!/usr/bin/python3
"""BPTT of the same LIF RSNN in PyTorch (Debian's python3-torch), one thread, for
scripts/bench: the mainstream-framework baseline the float reference is measured against.

Same network as `qrsim train` on fmnist-rows: 224 inputs, 128 LIF (tau_m 20 ms, v_th 0.6,
reset by subtraction without gradient, refractory 2), leaky readout (tau_out 20 ms),
cross-entropy over the last 4 of 60 steps (2 steps per image row), pseudo-derivative 0.3/v_th max(0, 1-|x|),
Adam, batch 32. Input spikes are Bernoulli at the density of the real encoding (the dense
framework's cost does not depend on it)."""
import math
import sys
import time

import torch

N_IN, N_REC, N_OUT, T, WINDOW, BATCH = 224, int(sys.argv[2]) if len(sys.argv) > 2 else 128, 10, 60, 4, 32
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
    batch = x.shape[1]
    v = torch.zeros(batch, N_REC)
    z = torch.zeros(batch, N_REC)
    y = torch.zeros(batch, N_OUT)
    refr = torch.zeros(batch, N_REC)
    mask = 1 - torch.eye(N_REC)
    outputs = []
    for t in range(T):
        v = ALPHA * v + x[t] @ w_in.t() + z @ (w_rec * mask).t() - V_TH * z.detach()
        can_fire = (refr == 0).to(v.dtype)
        z = Spike.apply((v - V_TH) / V_TH) * can_fire
        refr = torch.where(z.detach() > 0, torch.full_like(refr, REFRACTORY), torch.clamp(refr - 1, min=0))
        y = KAPPA * y + z @ w_out.t() + b_out
        outputs.append(y)
    return torch.stack(outputs[-WINDOW:])


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    w_in = (torch.randn(N_REC, N_IN) / math.sqrt(N_IN)).requires_grad_()
    w_rec = (torch.randn(N_REC, N_REC) / math.sqrt(N_REC)).requires_grad_()
    w_out = (torch.randn(N_OUT, N_REC) / math.sqrt(N_REC)).requires_grad_()
    b_out = torch.zeros(N_OUT, requires_grad=True)
    opt = torch.optim.Adam([w_in, w_rec, w_out, b_out], lr=0.005)
    x_all = (torch.rand(T, samples, N_IN) < 0.05).float()
    labels = torch.randint(0, N_OUT, (samples,))
    start = time.perf_counter()
    for b in range(0, samples, BATCH):
        y = forward(w_in, w_rec, w_out, b_out, x_all[:, b:b + BATCH])
        loss = torch.nn.functional.cross_entropy(y.reshape(-1, N_OUT), labels[b:b + BATCH].repeat(WINDOW))
        opt.zero_grad()
        loss.backward()
        opt.step()
    rate = samples / (time.perf_counter() - start)
    print(f"torch  bptt   {rate:8.0f} samples/s  (PyTorch {torch.__version__}, float32, 1 thread)")


if __name__ == "__main__":
    main()
