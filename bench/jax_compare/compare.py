"""The JAX side of the dlf benchmark, and the table that puts both sides together.

Usage: python compare.py RUST_JSON [RUST_JSON ...]

Each RUST_JSON is the output of `cargo run --release -p dlf-engine --example jax_compare` (a case -> µs
object); with several, the fastest run of each case counts (the machine is shared, so the minimum is the
least disturbed measurement). JAX runs the same computations in float64 under `jit`, timed like the Rust
side: warm-up (which compiles), then 11 repeats of a loop of about 20 ms, `block_until_ready` on the last
result of each repeat (JAX dispatches asynchronously; each step's result feeds nothing, so the loop
measures throughput as the Rust loop does), and the fastest repeat's per-call time. JAX is run twice and its faster run counts too.
"""

import json
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402  (x64 must be on before arrays are made)


def time_us(f, *args):
    """The fastest per-call µs of f(*args) over 11 repeats, results waited for with block_until_ready."""
    jax.block_until_ready(f(*args))  # compile
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05 or calls < 3:
        jax.block_until_ready(f(*args))
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    iters = max(1, int(0.02 / per_call + 0.999))
    samples = []
    for _ in range(11):
        t = time.perf_counter()
        for _ in range(iters):
            out = f(*args)
        jax.block_until_ready(out)
        samples.append((time.perf_counter() - t) / iters * 1e6)
    return min(samples)


ACTIVATIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    # dlf's GELU is the exact x·Φ(x) (erf form).
    "gelu": lambda z: jax.nn.gelu(z, approximate=False),
}


def mlp_case(hidden, act, batch, key):
    """One SGD step of 2 -> hidden -> 2 with mean softmax cross-entropy (the trainer's Mlp::train)."""
    f = ACTIVATIONS[act]
    sizes = [2, *hidden, 2]
    keys = jax.random.split(key, len(sizes) + 1)
    params = [
        (jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), jnp.zeros(b))
        for k, a, b in zip(keys, sizes[:-1], sizes[1:])
    ]
    x = jax.random.normal(keys[-1], (batch, 2))
    y = jnp.arange(batch) % 2

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = f(h @ w + b)
        w, b = params[-1]
        logp = jax.nn.log_softmax(h @ w + b)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    @jax.jit
    def step(params, x, y):
        l, g = jax.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, d: p - 0.1 * d, params, g), l

    return time_us(step, params, x, y)


def two_layer(key):
    """Lesson 01: 64x784 -> 256 ReLU -> 10, softmax cross-entropy, gradients for X, W1, b1, W2, b2."""
    k = jax.random.split(key, 3)
    x = jax.random.normal(k[0], (64, 784))
    w1 = jax.random.normal(k[1], (784, 256)) / 28.0
    w2 = jax.random.normal(k[2], (256, 10)) / 16.0
    b1, b2 = jnp.zeros(256), jnp.zeros(10)
    y = jnp.arange(64) % 10

    def loss(x, w1, b1, w2, b2):
        h = jax.nn.relu(x @ w1 + b1)
        logp = jax.nn.log_softmax(h @ w2 + b2)
        return -jnp.mean(logp[jnp.arange(64), y])

    f = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2, 3, 4)))
    return time_us(f, x, w1, b1, w2, b2)


def attention(key, b=2, t=32, d=64, heads=4):
    """Causal multi-head self-attention, L = mean(out^2), gradients for X and W_q, W_k, W_v, W_o."""
    k = jax.random.split(key, 5)
    x = jax.random.normal(k[0], (b, t, d))
    ws = [jax.random.normal(kk, (d, d)) / jnp.sqrt(d) for kk in k[1:]]
    dh = d // heads
    mask = jnp.tril(jnp.ones((t, t), dtype=bool))

    def split(z):
        return z.reshape(b, t, heads, dh).transpose(0, 2, 1, 3)

    def loss(x, wq, wk, wv, wo):
        q, kk, v = split(x @ wq), split(x @ wk), split(x @ wv)
        s = q @ kk.transpose(0, 1, 3, 2) / jnp.sqrt(dh)
        p = jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1)
        o = (p @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
        return jnp.mean((o @ wo) ** 2)

    f = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2, 3, 4)))
    return time_us(f, x, *ws)


def jax_side():
    key = jax.random.PRNGKey(0)
    out = {}
    for batch in (200, 8):
        for name, hidden, act in [
            ("1x16_relu", [16], "relu"),
            ("3x32_relu", [32] * 3, "relu"),
            ("3x32_tanh", [32] * 3, "tanh"),
            ("3x32_gelu", [32] * 3, "gelu"),
        ]:
            out[f"mlp_step_b{batch}_{name}"] = mlp_case(hidden, act, batch, key)
    out["mlp784_fwd_bwd"] = two_layer(key)
    out["attention_b2_t32_d64_h4"] = attention(key)
    return out


def jax_key(case):
    """The JAX case a Rust case is compared with (the Rust side has several variants of some cases)."""
    for prefix in ("mlp784_fwd_bwd", "attention_b2_t32_d64_h4"):
        if case.startswith(prefix):
            return prefix
    return case


def main():
    rust = {}
    for path in sys.argv[1:]:
        with open(path) as fh:
            for case, us in json.load(fh).items():
                rust[case] = min(us, rust.get(case, float("inf")))
    runs = [jax_side(), jax_side()]
    jx = {case: min(r[case] for r in runs) for case in runs[0]}
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}")
    print()
    print(f"| {'case':<44} | {'dlf µs':>9} | {'JAX µs':>9} | {'JAX/dlf':>7} |")
    print(f"| {'-' * 44} | {'-' * 9}: | {'-' * 9}: | {'-' * 7}: |")
    for case, us in rust.items():
        j = jx[jax_key(case)]
        print(f"| {case:<44} | {us:>9.1f} | {j:>9.1f} | {j / us:>7.2f} |")
    print()
    print("JAX/dlf > 1 means dlf is faster.")


if __name__ == "__main__":
    main()
