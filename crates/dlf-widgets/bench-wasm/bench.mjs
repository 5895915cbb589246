// Times `dlf_render` of the widget WebAssembly module under Node, case by case, and prints the median
// render time of each: the in-browser counterpart of `cargo bench -p dlf-widgets --bench widgets`.
//
// Usage (build the module with the profile that crates/dlf-server/build.rs uses; see README.md here):
//   node crates/dlf-widgets/bench-wasm/bench.mjs path/to/dlf_widgets.wasm [runs]
//
// The cases are the module's own (`dlf_bench_cases`, built from every widget spec's `bench` list), the same
// as those of crates/dlf-widgets/benches/widgets.rs: every widget at its defaults and at its most expensive
// parameters. Each case is rendered a few times to warm up the engine's tiers
// (Liftoff, then TurboFan), then `runs` times (default 30); the median is printed because a shared build
// machine produces occasional slow outliers that would drag a mean upwards.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const WARM_UP = 5;

function usage() {
  console.error("usage: node bench.mjs path/to/dlf_widgets.wasm [runs]");
  process.exit(2);
}

const path = process.argv[2];
if (!path) usage();
const runs = Number(process.argv[3] ?? 30);
if (!Number.isInteger(runs) || runs < 1) usage();

const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
const { memory, dlf_alloc, dlf_free, dlf_render, dlf_bench_cases } = instance.exports;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Reads a JSON result that the module packed as (ptr << 32) | len, then frees it.
function take(packed) {
  const outPtr = Number(packed >> 32n);
  const outLen = Number(packed & 0xffffffffn);
  const json = decoder.decode(new Uint8Array(memory.buffer, outPtr, outLen));
  dlf_free(outPtr, outLen);
  return json;
}

// The cases come from the module itself (every widget spec's `bench` list), so this file never lists them.
const CASES = JSON.parse(take(dlf_bench_cases()));

// One render through the pointer/length ABI, exactly as the page's script does it; returns the JSON.
function render(query) {
  const bytes = encoder.encode(query);
  const ptr = dlf_alloc(bytes.length);
  new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  const json = take(dlf_render(ptr, bytes.length));
  dlf_free(ptr, bytes.length);
  return json;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

console.log(`${"case".padEnd(28)} ${"median ms".padStart(10)} ${"min ms".padStart(8)}`);
let failed = false;
for (const [name, query] of CASES) {
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
process.exit(failed ? 1 : 0);
