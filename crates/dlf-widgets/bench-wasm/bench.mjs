// Times `dlf_render` of the widget WebAssembly module under Node, case by case, and prints the median
// render time of each: the in-browser counterpart of `cargo bench -p dlf-widgets --bench widgets`.
//
// Usage (build the module with the profile that crates/dlf-server/build.rs uses; see README.md here):
//   node crates/dlf-widgets/bench-wasm/bench.mjs path/to/dlf_widgets.wasm [runs]
//
// The cases mirror `worst_cases` in crates/dlf-widgets/benches/widgets.rs: every widget at its defaults
// and at its most expensive parameters. Each case is rendered a few times to warm up the engine's tiers
// (Liftoff, then TurboFan), then `runs` times (default 30); the median is printed because a shared build
// machine produces occasional slow outliers that would drag a mean upwards.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const CASES = [
  ["mlp-trainer/default", "widget=mlp-trainer"],
  [
    "mlp-trainer/worst-gelu",
    "widget=mlp-trainer&dataset=spirals&width=32&depth=3&steps=500&activation=gelu",
  ],
  [
    "mlp-trainer/worst-sigmoid",
    "widget=mlp-trainer&dataset=spirals&width=32&depth=3&steps=500&activation=sigmoid",
  ],
  [
    "mlp-trainer/worst-tanh",
    "widget=mlp-trainer&dataset=spirals&width=32&depth=3&steps=500&activation=tanh",
  ],
  [
    "mlp-trainer/worst-relu",
    "widget=mlp-trainer&dataset=spirals&width=32&depth=3&steps=500&activation=relu",
  ],
  ["backprop-walk/default", "widget=backprop-walk"],
  [
    "backprop-walk/worst-gelu",
    "widget=backprop-walk&batch=8&d_in=6&hidden=8&classes=5&activation=gelu",
  ],
  [
    "backprop-walk/worst-tanh",
    "widget=backprop-walk&batch=8&d_in=6&hidden=8&classes=5&activation=tanh",
  ],
  ["softmax-stability/default", "widget=softmax-stability"],
  [
    "softmax-stability/worst-f64",
    "widget=softmax-stability&classes=10&precision=float64&log10_margin=4",
  ],
  // Lessons 02 and 03: the same worst cases as benches/widgets.rs.
  ["optimizer-race/default", "widget=optimizer-race"],
  [
    "optimizer-race/worst-rosenbrock-400",
    "widget=optimizer-race&surface=rosenbrock&steps=400&noise=2&warmup=100",
  ],
  ["adam-noise/default", "widget=adam-noise"],
  ["adam-noise/worst-3000", "widget=adam-noise&steps=3000"],
  ["adamw-vs-l2/default", "widget=adamw-vs-l2"],
  ["adamw-vs-l2/worst-5000", "widget=adamw-vs-l2&steps=5000&noise=1"],
  ["norm-depth/default", "widget=norm-depth"],
  ["norm-depth/worst-batchnorm-48", "widget=norm-depth&norm=batchnorm&depth=48&batch=16"],
  ["norm-depth/worst-layernorm-48", "widget=norm-depth&norm=layernorm&depth=48&batch=16"],
  ["bn-batch-gap/default", "widget=bn-batch-gap"],
  ["bn-batch-gap/worst-warmup-300", "widget=bn-batch-gap&warmup=300"],
];

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
const { memory, dlf_alloc, dlf_free, dlf_render } = instance.exports;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// One render through the pointer/length ABI, exactly as the page's script does it; returns the JSON.
function render(query) {
  const bytes = encoder.encode(query);
  const ptr = dlf_alloc(bytes.length);
  new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  const packed = dlf_render(ptr, bytes.length);
  const outPtr = Number(packed >> 32n);
  const outLen = Number(packed & 0xffffffffn);
  const json = decoder.decode(new Uint8Array(memory.buffer, outPtr, outLen));
  dlf_free(outPtr, outLen);
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
