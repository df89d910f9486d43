#!/usr/bin/env python3
"""The PyTorch peer of `npm run bench:model -- --peer torch`.

BFL's FLUX transformer (black-forest-labs/flux: model.py, modules/layers.py, math.py), written out
again from the architecture notes in ../shared/reference/flux-architecture.md with the same modules
and shapes: img_in, time_in (sinusoidal 256, t x 1000), optional guidance_in, vector_in, txt_in,
3-axis RoPE, double-stream blocks (joint attention, text first), single-stream blocks, last layer.
It times, on the same config, batch, token counts and thread count as our bench, a forward under
no_grad and a full training step (forward, MSE, backward, clip to norm 1, torch.optim.AdamW), and
prints one JSON line. Only for benchmarking: nothing in the project runs it.
"""

import argparse
import json
import math
import time

import torch
from torch import nn


def rope(pos, dim, theta):
    scale = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    omega = 1.0 / (theta**scale)
    out = torch.einsum("...n,d->...nd", pos.double(), omega)
    out = torch.stack([torch.cos(out), -torch.sin(out), torch.sin(out), torch.cos(out)], dim=-1)
    return out.reshape(*out.shape[:-1], 2, 2).float()


def apply_rope(x, freqs):
    x_ = x.float().reshape(*x.shape[:-1], -1, 1, 2)
    out = freqs[..., 0] * x_[..., 0] + freqs[..., 1] * x_[..., 1]
    return out.reshape(*x.shape).type_as(x)


def sdpa(q, k, v):
    # PyTorch 2's fused kernel where there is one; Debian's 1.13 has none, so the plain softmax form there.
    fused = getattr(nn.functional, "scaled_dot_product_attention", None)
    if fused:
        return fused(q, k, v)
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v


def attention(q, k, v, pe):
    q, k = apply_rope(q, pe), apply_rope(k, pe)
    x = sdpa(q, k, v)
    b, h, l, d = x.shape
    return x.transpose(1, 2).reshape(b, l, h * d)


class EmbedND(nn.Module):
    def __init__(self, theta, axes_dim):
        super().__init__()
        self.theta, self.axes_dim = theta, axes_dim

    def forward(self, ids):
        emb = torch.cat([rope(ids[..., i], d, self.theta) for i, d in enumerate(self.axes_dim)], dim=-3)
        return emb.unsqueeze(1)


def timestep_embedding(t, dim, max_period=10000, time_factor=1000.0):
    t = time_factor * t
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class MLPEmbedder(nn.Module):
    def __init__(self, in_dim, hidden):
        super().__init__()
        self.in_layer, self.silu, self.out_layer = nn.Linear(in_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden)

    def forward(self, x):
        return self.out_layer(self.silu(self.in_layer(x)))


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        rrms = torch.rsqrt(torch.mean(x.float() ** 2, dim=-1, keepdim=True) + 1e-6)
        return (x.float() * rrms).to(x) * self.scale


class QKNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.query_norm, self.key_norm = RMSNorm(dim), RMSNorm(dim)

    def forward(self, q, k, v):
        return self.query_norm(q).to(v), self.key_norm(k).to(v)


class SelfAttention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.norm = QKNorm(dim // num_heads)
        self.proj = nn.Linear(dim, dim)


class Modulation(nn.Module):
    def __init__(self, dim, double):
        super().__init__()
        self.multiplier = 6 if double else 3
        self.lin = nn.Linear(dim, self.multiplier * dim)

    def forward(self, vec):
        return self.lin(nn.functional.silu(vec))[:, None, :].chunk(self.multiplier, dim=-1)


def split_heads(qkv, heads):
    b, l, _ = qkv.shape
    return qkv.reshape(b, l, 3, heads, -1).permute(2, 0, 3, 1, 4)


class DoubleStreamBlock(nn.Module):
    def __init__(self, hidden, heads, mlp_ratio, qkv_bias):
        super().__init__()
        mlp = int(hidden * mlp_ratio)
        self.num_heads = heads
        for side in ("img", "txt"):
            setattr(self, f"{side}_mod", Modulation(hidden, True))
            setattr(self, f"{side}_norm1", nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6))
            setattr(self, f"{side}_attn", SelfAttention(hidden, heads, qkv_bias))
            setattr(self, f"{side}_norm2", nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6))
            setattr(self, f"{side}_mlp", nn.Sequential(nn.Linear(hidden, mlp), nn.GELU(approximate="tanh"), nn.Linear(mlp, hidden)))

    def forward(self, img, txt, vec, pe):
        im = self.img_mod(vec)
        tm = self.txt_mod(vec)
        qkvs = []
        for x, m, norm, attn in ((txt, tm, self.txt_norm1, self.txt_attn), (img, im, self.img_norm1, self.img_attn)):
            q, k, v = split_heads(attn.qkv((1 + m[1]) * norm(x) + m[0]), self.num_heads)
            q, k = attn.norm(q, k, v)
            qkvs.append((q, k, v))
        q, k, v = (torch.cat([qkvs[0][i], qkvs[1][i]], dim=2) for i in range(3))
        a = attention(q, k, v, pe)
        txt_a, img_a = a[:, : txt.shape[1]], a[:, txt.shape[1] :]
        img = img + im[2] * self.img_attn.proj(img_a)
        img = img + im[5] * self.img_mlp((1 + im[4]) * self.img_norm2(img) + im[3])
        txt = txt + tm[2] * self.txt_attn.proj(txt_a)
        txt = txt + tm[5] * self.txt_mlp((1 + tm[4]) * self.txt_norm2(txt) + tm[3])
        return img, txt


class SingleStreamBlock(nn.Module):
    def __init__(self, hidden, heads, mlp_ratio):
        super().__init__()
        self.hidden, self.num_heads, self.mlp = hidden, heads, int(hidden * mlp_ratio)
        self.linear1 = nn.Linear(hidden, hidden * 3 + self.mlp)
        self.linear2 = nn.Linear(hidden + self.mlp, hidden)
        self.norm = QKNorm(hidden // heads)
        self.pre_norm = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.modulation = Modulation(hidden, False)

    def forward(self, x, vec, pe):
        shift, scale, gate = self.modulation(vec)
        qkv, mlp = torch.split(self.linear1((1 + scale) * self.pre_norm(x) + shift), [3 * self.hidden, self.mlp], dim=-1)
        q, k, v = split_heads(qkv, self.num_heads)
        q, k = self.norm(q, k, v)
        a = attention(q, k, v, pe)
        return x + gate * self.linear2(torch.cat((a, nn.functional.gelu(mlp, approximate="tanh")), 2))


class LastLayer(nn.Module):
    def __init__(self, hidden, out_channels):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden, out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))

    def forward(self, x, vec):
        shift, scale = self.adaLN_modulation(vec).chunk(2, dim=1)
        return self.linear((1 + scale[:, None, :]) * self.norm_final(x) + shift[:, None, :])


class Flux(nn.Module):
    def __init__(self, p):
        super().__init__()
        h = p["hidden_size"]
        self.p = p
        self.pe_embedder = EmbedND(p["theta"], p["axes_dim"])
        self.img_in = nn.Linear(p["in_channels"], h)
        self.time_in = MLPEmbedder(256, h)
        self.vector_in = MLPEmbedder(p["vec_in_dim"], h)
        self.guidance_in = MLPEmbedder(256, h) if p["guidance_embed"] else nn.Identity()
        self.txt_in = nn.Linear(p["context_in_dim"], h)
        self.double_blocks = nn.ModuleList(DoubleStreamBlock(h, p["num_heads"], p["mlp_ratio"], p["qkv_bias"]) for _ in range(p["depth"]))
        self.single_blocks = nn.ModuleList(SingleStreamBlock(h, p["num_heads"], p["mlp_ratio"]) for _ in range(p["depth_single_blocks"]))
        self.final_layer = LastLayer(h, p["out_channels"])

    def forward(self, img, img_ids, txt, txt_ids, timesteps, y, guidance):
        img = self.img_in(img)
        vec = self.time_in(timestep_embedding(timesteps, 256))
        if self.p["guidance_embed"]:
            vec = vec + self.guidance_in(timestep_embedding(guidance, 256))
        vec = vec + self.vector_in(y)
        txt = self.txt_in(txt)
        pe = self.pe_embedder(torch.cat((txt_ids, img_ids), dim=1))
        for block in self.double_blocks:
            img, txt = block(img, txt, vec, pe)
        x = torch.cat((txt, img), 1)
        for block in self.single_blocks:
            x = block(x, vec, pe)
        return self.final_layer(x[:, txt.shape[1] :, ...], vec)


def best_of(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--img-tokens", type=int, default=256)
    ap.add_argument("--txt-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = json.load(open(a.config))
    p = cfg.get("flux", cfg)
    model = Flux(p)
    b, li, lt = a.batch, a.img_tokens, a.txt_tokens
    side = round(math.sqrt(li))
    img_ids = torch.zeros(b, li, 3)
    img_ids[..., 1] = (torch.arange(li) // side).float()
    img_ids[..., 2] = (torch.arange(li) % side).float()
    inputs = dict(
        img=torch.randn(b, li, p["in_channels"]),
        img_ids=img_ids,
        txt=torch.randn(b, lt, p["context_in_dim"]),
        txt_ids=torch.zeros(b, lt, 3),
        timesteps=torch.full((b,), 0.5),
        y=torch.randn(b, p["vec_in_dim"]),
        guidance=torch.full((b,), 3.5),
    )
    target = torch.randn(b, li, p["out_channels"])

    def forward():
        with torch.no_grad():
            model(**inputs)

    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(**inputs), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    fwd_best, fwd_median = best_of(forward, a.reps)
    step_best, step_median = best_of(step, a.reps)
    print(
        json.dumps(
            {
                "peer": "torch",
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "params": sum(x.numel() for x in model.parameters()),
                "forward_s": fwd_best,
                "forward_median_s": fwd_median,
                "train_step_s": step_best,
                "train_step_median_s": step_median,
            }
        )
    )


if __name__ == "__main__":
    main()
