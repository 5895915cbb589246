// dlf search: offline full-text search over every lesson section, in the page header. The index
// (assets/search.HASH.json, written when the pages are rendered) and the search library (MiniSearch, vendored)
// are fetched the first time the box is focused, so a page that is only read loads neither. "/" focuses the box;
// arrow keys move through the results, Enter opens one, Escape closes the list.
(function () {
  "use strict";

  const input = document.getElementById("search");
  const list = document.getElementById("search-results");
  if (!input || !list) return;
  const root = document.documentElement.dataset.root || "/";
  let engine = null;
  let loading = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error("could not load " + src));
      document.head.append(script);
    });
  }

  function load() {
    if (!loading) {
      loading = Promise.all([
        window.MiniSearch ? Promise.resolve() : loadScript(input.dataset.engine),
        fetch(input.dataset.index).then((r) => r.json()),
      ]).then(([, docs]) => {
        const search = new window.MiniSearch({
          fields: ["lesson", "heading", "text"],
          storeFields: ["url", "lesson", "heading", "text"],
          searchOptions: { boost: { heading: 3, lesson: 1.5 }, prefix: true, fuzzy: 0.15, combineWith: "AND" },
        });
        search.addAll(docs);
        engine = search;
      });
    }
    return loading;
  }

  function snippet(text, terms) {
    const lower = text.toLowerCase();
    let at = -1;
    for (const term of terms) {
      at = lower.indexOf(term.toLowerCase());
      if (at >= 0) break;
    }
    const start = Math.max(0, at - 60);
    return (start > 0 ? "…" : "") + text.slice(start, start + 180) + (text.length > start + 180 ? "…" : "");
  }

  function show() {
    const query = input.value.trim();
    list.replaceChildren();
    if (!engine || query.length < 2) {
      list.hidden = true;
      return;
    }
    const results = engine.search(query).slice(0, 12);
    if (results.length === 0) {
      const li = document.createElement("li");
      li.className = "search-empty";
      li.textContent = "No section matches “" + query + "”.";
      list.append(li);
    }
    for (const r of results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = root + r.url;
      const title = document.createElement("span");
      title.className = "search-title";
      title.textContent = r.heading && r.heading !== r.lesson ? r.lesson + " › " + r.heading : r.lesson;
      const text = document.createElement("span");
      text.className = "search-snippet";
      text.textContent = snippet(r.text, r.terms);
      a.append(title, text);
      li.append(a);
      list.append(li);
    }
    list.hidden = false;
  }

  input.addEventListener("focus", () => { load().then(show).catch((err) => console.warn("dlf: search unavailable", err)); });
  input.addEventListener("input", () => { if (engine) show(); else load().then(show); });
  input.addEventListener("keydown", (event) => {
    const links = Array.from(list.querySelectorAll("a"));
    if (event.key === "ArrowDown" && links.length) { event.preventDefault(); links[0].focus(); }
    if (event.key === "Enter" && links.length) { event.preventDefault(); links[0].click(); }
    if (event.key === "Escape") { input.value = ""; show(); input.blur(); }
  });
  list.addEventListener("keydown", (event) => {
    const links = Array.from(list.querySelectorAll("a"));
    const at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
    if (event.key === "Escape") { list.hidden = true; input.focus(); }
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!list.contains(event.target) && event.target !== input) list.hidden = true;
  });
})();
