// dlf front-end: wires the native HTML controls of each widget to the widget renderer, and runs the
// "derive this in 60 seconds" boxes. Everything here is progressive enhancement: without JavaScript every page
// still shows each widget's default figure and every derivation step.
//
// Rendering path: the same Rust function renders a widget at build time (the figure already in the HTML), here
// through WebAssembly on every input event, and on the server at /api/widgets/{id} when the wasm is unavailable.
(function () {
  "use strict";

  const root = document.documentElement.dataset.root || "/";
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let wasm = null;

  // Loads the page's widget module (its lesson's). Resolves to null (and the server route is used) when it cannot
  // be loaded or the page names none.
  async function loadWasm() {
    // The module's name carries its content hash (data-wasm, written by the server), so it is cached for good.
    const module = document.documentElement.dataset.wasm;
    if (!("WebAssembly" in window) || !module) return null;
    try {
      const response = await fetch(root + module);
      if (!response.ok) return null;
      const bytes = await response.arrayBuffer();
      if (bytes.byteLength === 0) return null;
      const { instance } = await WebAssembly.instantiate(bytes, {});
      return instance.exports;
    } catch (err) {
      console.warn("dlf: widget wasm unavailable, using the server route", err);
      return null;
    }
  }

  // Calls dlf_render through the pointer/length ABI: the query in, the figure's JSON text out.
  function renderWasmText(query) {
    const input = encoder.encode(query);
    const ptr = wasm.dlf_alloc(input.length);
    new Uint8Array(wasm.memory.buffer, ptr, input.length).set(input);
    const packed = wasm.dlf_render(ptr, input.length);
    wasm.dlf_free(ptr, input.length);
    const outPtr = Number(BigInt.asUintN(64, packed) >> 32n);
    const outLen = Number(BigInt.asUintN(64, packed) & 0xffffffffn);
    const text = decoder.decode(new Uint8Array(wasm.memory.buffer, outPtr, outLen).slice());
    wasm.dlf_free(outPtr, outLen);
    return text;
  }

  function renderWasm(query) {
    return JSON.parse(renderWasmText(query));
  }

  // One progressive redraw through dlf_step: a widget that fits a frame is rendered ("done": true); a widget
  // whose work spans frames does one slice of it per call with the same query (see dlf_widgets::Stepped).
  function stepWasm(slot, query) {
    const input = encoder.encode(query);
    const ptr = wasm.dlf_alloc(input.length);
    new Uint8Array(wasm.memory.buffer, ptr, input.length).set(input);
    const packed = wasm.dlf_step(slot, ptr, input.length);
    wasm.dlf_free(ptr, input.length);
    const outPtr = Number(BigInt.asUintN(64, packed) >> 32n);
    const outLen = Number(BigInt.asUintN(64, packed) & 0xffffffffn);
    const text = decoder.decode(new Uint8Array(wasm.memory.buffer, outPtr, outLen).slice());
    wasm.dlf_free(outPtr, outLen);
    return JSON.parse(text);
  }

  async function renderServer(widgetId, params) {
    const response = await fetch(root + "api/widgets/" + encodeURIComponent(widgetId) + "?" + params.toString());
    const type = response.headers.get("content-type") || "";
    if (!type.startsWith("application/json")) {
      // A static export has no server to ask: say why the figure stays as it is.
      return {
        error:
          "This figure cannot be redrawn here: this browser could not run the widget module and no dlf server is " +
          "answering. The figure shows the default settings.",
      };
    }
    return response.json();
  }

  function controlParams(form) {
    const params = new URLSearchParams();
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === "checkbox") params.set(el.name, el.checked ? "true" : "false");
      else params.set(el.name, el.value);
    }
    return params;
  }

  function showOutputs(form) {
    for (const out of form.querySelectorAll("output[for]")) {
      const input = document.getElementById(out.htmlFor.value || out.getAttribute("for"));
      if (input) out.value = input.value;
    }
  }

  function applyFigure(figure, result) {
    const status = figure.querySelector(".widget-error");
    if (result.error) {
      status.textContent = result.error;
      status.hidden = false;
      return;
    }
    status.hidden = true;
    figure.querySelector(".widget-figure").innerHTML = result.svg;
    const numbers = figure.querySelector(".widget-numbers");
    numbers.replaceChildren(
      ...result.numbers.map(([label, value]) => {
        const row = document.createElement("div");
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = label;
        dd.textContent = value;
        row.append(dt, dd);
        return row;
      })
    );
    figure.querySelector(".widget-description").textContent = result.description;
  }

  // Keeps every widget's state in the URL as INSTANCE.NAME=VALUE so a configuration can be shared.
  function writeUrlState(instance, params, defaults) {
    const url = new URL(window.location.href);
    for (const [name, value] of params) {
      const key = instance + "." + name;
      if (defaults.get(name) === value) url.searchParams.delete(key);
      else url.searchParams.set(key, value);
    }
    window.history.replaceState(null, "", url);
  }

  function readUrlState(instance, form) {
    const url = new URL(window.location.href);
    let changed = false;
    for (const el of form.elements) {
      if (!el.name) continue;
      const value = url.searchParams.get(instance + "." + el.name);
      if (value === null) continue;
      if (el.type === "checkbox") el.checked = value === "true";
      else el.value = value;
      changed = true;
    }
    return changed;
  }

  let nextSlot = 0;

  function setupWidget(figure) {
    const slot = nextSlot++;
    const form = figure.querySelector(".widget-controls");
    const widgetId = figure.dataset.widget;
    const instance = figure.dataset.instance;
    const defaults = controlParams(form);
    let pending = false;

    const status = document.createElement("p");
    status.className = "widget-error";
    status.setAttribute("role", "alert");
    status.hidden = true;
    figure.append(status);

    async function redraw() {
      pending = false;
      const params = controlParams(form);
      showOutputs(form);
      const started = performance.now();
      let result;
      try {
        if (wasm) {
          const query = new URLSearchParams({ widget: widgetId });
          for (const [k, v] of params) query.set(k, v);
          result = stepWasm(slot, query.toString());
        } else {
          result = await renderServer(widgetId, params);
        }
      } catch (err) {
        result = { error: "Could not render this figure: " + err };
      }
      applyFigure(figure, result);
      const elapsed = performance.now() - started;
      figure.dataset.renderMs = elapsed.toFixed(3);
      figure.dataset.renderCount = String(Number(figure.dataset.renderCount || "0") + 1);
      figure.dataset.renderer = wasm ? "wasm" : "server";
      writeUrlState(instance, params, defaults);
      // A computation that spans frames continues on the next one; an input meanwhile changes the query, and
      // the module then abandons the stale computation and starts the new one.
      figure.dataset.progress = result.done === false ? "running" : "done";
      if (result.done === false) schedule();
    }

    // Coalesces a burst of input events (a dragged slider) into one render per animation frame.
    function schedule() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(redraw);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", (event) => event.preventDefault());
    if (readUrlState(instance, form)) schedule();
    figure.dataset.ready = "true";
  }

  function setupDerive(box) {
    const steps = Array.from(box.querySelectorAll(".derive-step"));
    const next = box.querySelector(".derive-next");
    const start = box.querySelector(".derive-start");
    const timer = box.querySelector(".derive-timer");
    const seconds = Number(box.dataset.seconds || "60");
    let shown = 0;
    let interval = null;

    for (const step of steps) step.hidden = true;
    const answer = box.querySelector(".derive-answer");
    if (answer) answer.hidden = true;
    if (next) next.hidden = false;

    function reveal() {
      if (shown < steps.length) {
        steps[shown].hidden = false;
        shown += 1;
      }
      if (shown === steps.length) {
        if (answer) answer.hidden = false;
        if (next) next.disabled = true;
        stop();
      }
      if (next) next.textContent = shown < steps.length ? "Reveal step " + (shown + 1) + " of " + steps.length : "All steps shown";
    }

    function stop() {
      if (interval !== null) window.clearInterval(interval);
      interval = null;
    }

    function format(s) {
      const m = Math.floor(s / 60);
      return m + ":" + String(s % 60).padStart(2, "0");
    }

    if (timer) timer.textContent = format(seconds);
    if (next) {
      next.textContent = "Reveal step 1 of " + steps.length;
      next.addEventListener("click", reveal);
    }
    if (start) {
      start.addEventListener("click", () => {
        stop();
        let left = seconds;
        timer.textContent = format(left);
        box.classList.add("derive-running");
        box.classList.remove("derive-timeout");
        interval = window.setInterval(() => {
          left -= 1;
          timer.textContent = format(Math.max(left, 0));
          if (left <= 0) {
            stop();
            box.classList.remove("derive-running");
            box.classList.add("derive-timeout");
            timer.textContent = "time — now check your steps";
          }
        }, 1000);
      });
    }
  }

  // Printing shows everything folded on screen: every prompt's rubric (<details>) and every derivation step the
  // reveal buttons hide. What was folded is folded again afterwards. (The stylesheet's print rules hide controls.)
  function setupPrint() {
    let unfolded = [];
    window.addEventListener("beforeprint", () => {
      unfolded = [];
      for (const details of document.querySelectorAll("details:not([open])")) {
        details.open = true;
        unfolded.push(() => { details.open = false; });
      }
      for (const hidden of document.querySelectorAll(".derive-step[hidden], .derive-answer[hidden]")) {
        hidden.hidden = false;
        unfolded.push(() => { hidden.hidden = true; });
      }
    });
    window.addEventListener("afterprint", () => {
      for (const fold of unfolded) fold();
      unfolded = [];
    });
  }

  async function main() {
    setupPrint();
    for (const box of document.querySelectorAll(".derive")) setupDerive(box);
    const figures = document.querySelectorAll("figure.widget");
    if (figures.length === 0) return;
    wasm = await loadWasm();
    // A small hook for measurement: the in-browser benchmark (crates/dlf-server/examples/browser_bench.rs)
    // times exactly the call a slider drag makes.
    window.dlfRender = (query) => (wasm ? renderWasm(query) : null);
    // The module's JSON exactly as it wrote it, for the test that compares wasm, native and server bytes.
    window.dlfRenderText = (query) => (wasm ? renderWasmText(query) : null);
    // One progressive redraw in a slot of its own (slots from 1000 up are free of the page's widgets), for the
    // benchmark that times every slice of a computation that spans frames.
    window.dlfStep = (slot, query) => (wasm ? stepWasm(1000 + slot, query) : null);
    document.documentElement.dataset.widgetRenderer = wasm ? "wasm" : "server";
    for (const figure of figures) setupWidget(figure);
    if (wasm) warmUp(figures);
  }

  // V8 compiles a wasm function lazily on its first call and optimises it only once it has run for a while, so
  // the first redraws after the page loads were measured at 4-9 ms against a 1-2 ms median (browser_bench). While
  // the reader is still reading, each figure's current settings are computed four times in scratch slots (3000 up) —
  // one frame's slice at a time, a macrotask apart, so no task is long — and the result is discarded.
  function warmUp(figures) {
    const jobs = [];
    figures.forEach((figure, i) => {
      const form = figure.querySelector(".widget-controls");
      if (!form) return;
      const query = new URLSearchParams({ widget: figure.dataset.widget });
      for (const [k, v] of controlParams(form)) query.set(k, v);
      for (let round = 0; round < 4; round++) jobs.push([3000 + i, query.toString()]);
    });
    const next = () => {
      const job = jobs.shift();
      if (!job) {
        document.documentElement.dataset.widgetsWarm = "true";
        return;
      }
      try {
        stepWasm(job[0], job[1]);
      } catch (err) {
        console.warn("dlf: warm-up redraw failed", err);
      }
      setTimeout(next, 0);
    };
    setTimeout(next, 0);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
