// Times `dlf_render` of the widget WebAssembly modules under Node, case by case, and prints the median
// render time of each: the in-browser counterpart of `cargo bench -p dlf-widgets --bench widgets`.
//
// Usage (the modules are built per lesson by crates/dlf-server/build.rs; see README.md here):
//   node crates/dlf-widgets/bench-wasm/bench.mjs MODULE.wasm|DIR ... [runs]
//
// Each argument is a lesson's module or a folder of them (every `*.wasm` in it). The cases are each module's
// own (`dlf_bench_cases`, built from its widgets' spec `bench` lists), the same as those of
// crates/dlf-widgets/benches/widgets.rs: every widget at its defaults and at its most expensive
// parameters. Each case is rendered a few times to warm up the engine's tiers
// (Liftoff, then TurboFan), then `runs` times (default 30); the median is printed because a shared build
// machine produces occasional slow outliers that would drag a mean upwards.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const WARM_UP = 5;

function usage() {
  console.error("usage: node bench.mjs MODULE.wasm|DIR ... [runs]");
  process.exit(2);
}

const args = process.argv.slice(2);
let runs = 30;
if (args.length > 1 && /^[0-9]+$/.test(args[args.length - 1])) runs = Number(args.pop());
if (args.length === 0 || !Number.isInteger(runs) || runs < 1) usage();
const paths = args.flatMap((arg) =>
  statSync(arg).isDirectory()
    ? readdirSync(arg)
        // cargo's folder of examples also holds a hashed copy of each (`optim-0123456789abcdef.wasm`).
        .filter((f) => f.endsWith(".wasm") && !/-[0-9a-f]{16}\.wasm$/.test(f))
        .sort()
        .map((f) => join(arg, f))
    : [arg],
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// One module's exports, and its render through the pointer/length ABI exactly as the page's script does it.
async function load(path) {
  const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
  const { memory, dlf_alloc, dlf_free, dlf_render, dlf_bench_cases } = instance.exports;
  // Reads a JSON result that the module packed as (ptr << 32) | len, then frees it.
  function take(packed) {
    const outPtr = Number(packed >> 32n);
    const outLen = Number(packed & 0xffffffffn);
    const json = decoder.decode(new Uint8Array(memory.buffer, outPtr, outLen));
    dlf_free(outPtr, outLen);
    return json;
  }
  function render(query) {
    const bytes = encoder.encode(query);
    const ptr = dlf_alloc(bytes.length);
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    const json = take(dlf_render(ptr, bytes.length));
    dlf_free(ptr, bytes.length);
    return json;
  }
  // The cases come from the module itself (its widgets' spec `bench` lists), so this file never lists them.
  return { cases: JSON.parse(take(dlf_bench_cases())), render };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

console.log(`${"case".padEnd(28)} ${"median ms".padStart(10)} ${"min ms".padStart(8)}`);
let failed = false;
for (const path of paths) {
  const { cases, render } = await load(path);
  for (const [name, query] of cases) {
    const first = JSON.parse(render(query));
    if (first.error) {
      console.error(`${name}: the module rejected the query: ${first.error}`);
      failed = true;
      continue;
    }
    for (let i = 1; i < WARM_UP; i++) render(query);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      render(query);
      times.push(performance.now() - t0);
    }
    const min = Math.min(...times);
    console.log(`${name.padEnd(28)} ${median(times).toFixed(2).padStart(10)} ${min.toFixed(2).padStart(8)}`);
  }
}
process.exit(failed ? 1 : 0);
