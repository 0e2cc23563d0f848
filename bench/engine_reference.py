#!/usr/bin/env python3
"""PyTorch reference for bench/engine.bench.ts: the same GPT-2 forward pass on the same safetensors folder.

Plain PyTorch GPT-2 maths (Hugging Face's computation; no transformers package), float32, on the CPU with the given
thread count. Prints one JSON line: forward_ms (median, a 64-token forward pass keeping every intermediate, as the
engine's full cache does), gen_tokens_per_s (greedy generation with a key/value cache), and the last logits row's
first values so the bench can check that both compute the same thing.

usage: engine_reference.py MODEL_DIR THREADS TOKENS_JSON GEN_PROMPT_JSON GEN_NEW_TOKENS REPEATS
"""
import json
import math
import statistics
import struct
import sys
import time

import torch


def load(folder):
    cfg = json.load(open(f"{folder}/config.json"))
    with open(f"{folder}/model.safetensors", "rb") as f:
        buf = bytearray(f.read())
    n = struct.unpack("<Q", bytes(buf[:8]))[0]
    header = json.loads(bytes(buf[8 : 8 + n]))
    weights = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"engine_reference.py reads F32 weights only ({name} is {info['dtype']})")
        begin, end = info["data_offsets"]
        t = torch.frombuffer(buf, dtype=torch.float32, count=(end - begin) // 4, offset=8 + n + begin)
        weights[name.removeprefix("transformer.")] = t.reshape(info["shape"])
    return cfg, weights


def main():
    folder, threads, tokens, gen_prompt, gen_new, repeats = sys.argv[1:7]
    torch.set_num_threads(int(threads))
    tokens = json.loads(tokens)
    gen_prompt = json.loads(gen_prompt)
    cfg, W = load(folder)
    L, H, d = cfg["n_layer"], cfg["n_head"], cfg["n_embd"]
    dh = d // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    c = math.sqrt(2 / math.pi)

    def ln(x, p):
        return torch.nn.functional.layer_norm(x, (d,), W[p + ".weight"], W[p + ".bias"], eps)

    def gelu_new(x):
        return 0.5 * x * (1 + torch.tanh(c * (x + 0.044715 * x * x * x)))

    def run(ids, start=0, kv=None, keep=None):
        n = len(ids)
        x = W["wte.weight"][ids] + W["wpe.weight"][start : start + n]
        for l in range(L):
            h = f"h.{l}."
            a = ln(x, h + "ln_1")
            qkv = a @ W[h + "attn.c_attn.weight"] + W[h + "attn.c_attn.bias"]
            q, k, v = (t.reshape(n, H, dh).transpose(0, 1) for t in qkv.split(d, dim=1))
            if kv is not None:
                if l in kv:
                    k = torch.cat([kv[l][0], k], dim=1)
                    v = torch.cat([kv[l][1], v], dim=1)
                kv[l] = (k, v)
            nk = k.shape[1]
            scores = q @ k.transpose(1, 2) / math.sqrt(dh)
            mask = torch.ones(n, nk, dtype=torch.bool).triu(nk - n + 1)
            scores = scores.masked_fill(mask, float("-inf"))
            pattern = scores.softmax(-1)
            z = (pattern @ v).transpose(0, 1).reshape(n, d)
            attn = z @ W[h + "attn.c_proj.weight"] + W[h + "attn.c_proj.bias"]
            mid = x + attn
            m = ln(mid, h + "ln_2")
            pre = m @ W[h + "mlp.c_fc.weight"] + W[h + "mlp.c_fc.bias"]
            post = gelu_new(pre)
            mlp = post @ W[h + "mlp.c_proj.weight"] + W[h + "mlp.c_proj.bias"]
            out = mid + mlp
            if keep is not None:
                keep.extend([x, a, q, k, v, scores, pattern, z, attn, mid, m, pre, post, mlp, out])
            x = out
        return ln(x, "ln_f") @ W["wte.weight"].T

    with torch.no_grad():
        times = []
        for i in range(int(repeats) + 1):
            t0 = time.perf_counter()
            logits = run(tokens, keep=[])
            if i > 0:
                times.append((time.perf_counter() - t0) * 1000)
        ids = list(gen_prompt)
        t0 = time.perf_counter()
        kv = {}
        nxt = ids
        for _ in range(int(gen_new)):
            lg = run(nxt, start=len(ids) - len(nxt), kv=kv)
            tok = int(lg[-1].argmax())
            ids.append(tok)
            nxt = [tok]
        gen_s = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "forward_ms": statistics.median(times),
        "gen_tokens_per_s": int(gen_new) / gen_s,
        "gen_tokens": ids[len(gen_prompt):],
        "last_logits": [float(v) for v in logits[-1][:8]],
    }))


if __name__ == "__main__":
    main()
