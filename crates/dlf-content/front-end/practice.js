// dlf practice and progress: the "mark done" control of a lesson, the progress line of the track page, the
// practice page (one card at a time from /api/practice/queue) and the progress page, all from the JSON API of
// `dlf serve` (see docs/PRACTICE.md).
//
// Only a page served with a progress store carries <html data-live>; anywhere else (the static export, a server
// without a store) this script makes no request at all and the controls that need a server stay hidden.
//
// Safety: card text (questions, rubric points, solutions) is HTML rendered by the course's own Markdown and maths
// pipeline on the server; everything the learner typed is only ever inserted with textContent, never as HTML.
(function () {
  "use strict";

  const docEl = document.documentElement;
  const live = "live" in docEl.dataset;
  const root = docEl.dataset.root || "/";

  // Builds an element: el("p", {class: "x"}, "text", child, ...). Strings become text nodes, never HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "html") node.innerHTML = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // Calls the API; rejects with the server's own message on an error status.
  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(root + path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const err = new Error((data && data.error) || "the server answered " + response.status);
      err.status = response.status;
      throw err;
    }
    return data;
  }

  // "in 3 days (Tue, Dec 1, 14:05)" for a due date; "in 5 minutes (22:29)" when it falls today, so the clock
  // time is not buried in a date; "within a minute" when it is due (or nearly).
  function dueText(iso) {
    const due = new Date(iso);
    const seconds = (due.getTime() - Date.now()) / 1000;
    const today = due.toDateString() === new Date().toDateString();
    const when = today
      ? due.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
      : due.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    // A card overdue for more than an hour says since when, so a backlog reads as one.
    if (seconds <= -3600) return "now (due since " + when + ")";
    if (seconds <= 60) return seconds <= 0 ? "now" : "within a minute";
    const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    for (const [unit, size] of units) {
      if (seconds >= size) return rtf.format(Math.round(seconds / size), unit) + " (" + when + ")";
    }
    return when;
  }

  const SUPERSCRIPT = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3", 4: "\u2074", 5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

  // A number as a reader checks it: a power of ten ("3.2 × 10⁹", mantissa without trailing zeros) for very
  // large or small magnitudes, else grouped digits ("653,416").
  function num(x) {
    if (!Number.isFinite(x)) return String(x);
    const a = Math.abs(x);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) {
      const [mantissa, exponent] = x.toExponential(3).split("e");
      const m = mantissa.replace(/\.?0+$/, "");
      const e = String(Number(exponent)).split("").map((c) => SUPERSCRIPT[c]).join("");
      return (m === "1" ? "" : m + " × ") + "10" + e;
    }
    return x.toLocaleString("en", { maximumSignificantDigits: 6 });
  }

  // How far an estimate is from the truth, in the words an interviewer would use: a percentage while the
  // error is below 100 %, else the factor between the two ("off by a factor of 1,000"). A factor close to
  // a power of 1000 or of 1024 is almost always a unit slip (FLOPs for GFLOPs, bytes for MiB), so it says so.
  function errorText(value, truth, relError, unit) {
    if (relError < 1 || value === 0 || truth === 0 || Math.sign(value) !== Math.sign(truth)) {
      return "relative error " + percent(relError);
    }
    const factor = Math.max(value / truth, truth / value);
    let text = "off by a factor of " + num(Number(factor.toPrecision(3)));
    for (let k = 1; k <= 5; k += 1) {
      if (Math.abs(factor / 1000 ** k - 1) < 0.05 || Math.abs(factor / 1024 ** k - 1) < 0.05) {
        text += (value > truth ? ", too large" : ", too small") + ": check the unit" + (unit ? " (" + unit.trim() + ")" : "");
        break;
      }
    }
    return text;
  }

  function percent(x) {
    return (100 * x).toLocaleString("en", { maximumSignificantDigits: 3 }) + "\u00a0%";
  }

  // "today", "yesterday" or a short date, for when something happened.
  function dayText(iso) {
    const at = new Date(iso);
    const days = Math.round((new Date(new Date().toDateString()) - new Date(at.toDateString())) / 86400000);
    if (days === 0) return "today";
    if (days === 1) return "yesterday";
    return at.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  }

  const RATING_WORDS = { again: "again (missed)", hard: "hard", good: "good", easy: "easy" };

  // ---- Lesson page: mark done / undo ----------------------------------------------------------------------

  function setupLessonDone(section, progress) {
    const match = window.location.pathname.match(/\/lessons\/([^/]+)\/?$/);
    const lesson = match && progress.lessons.find((l) => l.id === decodeURIComponent(match[1]));
    if (!lesson) return;
    const button = section.querySelector(".mark-done");
    const status = section.querySelector(".done-status");
    let done = lesson.done;
    let saving = false;

    // The button names the action it performs ("Mark lesson done", "Mark as not done"); the state is said in
    // words next to it, so neither a changing label nor a pressed state has to carry it alone.
    function show(message) {
      button.textContent = done ? "Mark as not done" : "Mark lesson done";
      section.classList.toggle("is-done", done);
      status.replaceChildren();
      if (message) status.append(message);
      else if (done) status.append("✓ Done. Its cards are in your ", el("a", { href: root + "practice/" }, "practice queue"), ".");
    }

    button.addEventListener("click", async () => {
      // A pending request ignores further clicks instead of disabling the button: a disabled button loses the
      // keyboard focus, and the learner would have to find their place again.
      if (saving) return;
      saving = true;
      button.setAttribute("aria-busy", "true");
      try {
        const answer = await api("PUT", "api/lessons/" + encodeURIComponent(lesson.id) + "/done", { done: !done });
        done = answer.done;
        show(done ? null : "Marked not done; its cards leave your practice queue (their history is kept).");
      } catch (err) {
        status.textContent = "Could not save: " + err.message;
      } finally {
        saving = false;
        button.removeAttribute("aria-busy");
      }
    });
    show(null);
    section.hidden = false;
  }

  // ---- Track page: done marks and the recommended next lesson ----------------------------------------------

  function setupTrack(line, progress) {
    for (const item of document.querySelectorAll("li[data-lesson]")) {
      const lesson = progress.lessons.find((l) => l.id === item.dataset.lesson);
      if (!lesson || !lesson.done) continue;
      item.classList.add("done");
      item.querySelector("a").after(" ", el("span", { class: "done-tag" }, "✓ done"));
    }
    const written = progress.lessons.filter((l) => l.written);
    const done = written.filter((l) => l.done).length;
    line.replaceChildren(done + " of " + written.length + " written lessons done. ");
    if (progress.next) {
      line.append("Recommended next: ", el("a", { href: root + "lessons/" + encodeURIComponent(progress.next.id) + "/", class: "next-link" }, progress.next.title), ". ");
    } else {
      line.append("Every written lesson is done. ");
    }
    if (done > 0) line.append(el("a", { href: root + "practice/" }, "Practise your cards"), " · ", el("a", { href: root + "progress/" }, "See your progress"));
    line.hidden = false;
  }

  // ---- Progress page ---------------------------------------------------------------------------------------

  function renderProgress(page, progress) {
    const status = page.querySelector(".progress-status");
    const written = progress.lessons.filter((l) => l.written);
    const done = written.filter((l) => l.done).length;
    status.textContent = done + " of " + written.length + " written lessons done; " + progress.reviewed.length + " cards reviewed.";
    const next = page.querySelector(".progress-next");
    next.replaceChildren();
    if (progress.next) {
      next.append("Recommended next lesson: ", el("a", { href: root + "lessons/" + encodeURIComponent(progress.next.id) + "/" }, progress.next.title), ".");
    } else {
      next.append("Every written lesson is done.");
    }
    next.hidden = false;

    const readiness = new Map(progress.readiness.map((r) => [r.lesson, r]));
    const rows = written.map((l) => {
      const r = readiness.get(l.id) || { cards: 0, seen: 0, due: 0, retention: null, accuracy: null };
      // Each cell carries its column's name (data-label) for the stacked layout of narrow screens.
      return el("tr", { "data-lesson": l.id },
        el("th", { scope: "row" }, el("a", { href: root + "lessons/" + encodeURIComponent(l.id) + "/" }, l.title)),
        el("td", { "data-label": "Done" }, l.done ? "✓ " + new Date(l.done_at).toLocaleDateString(undefined, { day: "numeric", month: "short" }) : "not yet"),
        el("td", { class: "n", "data-label": "Cards" }, String(r.cards)),
        el("td", { class: "n", "data-label": "Seen" }, String(r.seen)),
        el("td", { class: "n", "data-label": "Due" }, String(r.due)),
        el("td", { class: "n", "data-label": "Retention" }, r.retention === null ? "—" : percent(r.retention)),
        el("td", { class: "n", "data-label": "Accuracy" }, r.accuracy === null ? "—" : percent(r.accuracy)));
    });
    page.querySelector(".readiness").replaceChildren(
      el("table", { class: "readiness-table" },
        el("thead", {}, el("tr", {}, ...["Lesson", "Done", "Cards", "Seen", "Due", "Retention", "Accuracy"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, ...rows)));

    const reviewed = page.querySelector(".reviewed");
    if (progress.reviewed.length === 0) {
      reviewed.replaceChildren(el("p", {}, "No card reviewed yet. ", el("a", { href: root + "practice/" }, "Start practising"), "."));
      return;
    }
    const kinds = { prompt: "Prompt", derive: "Derivation", estimate: "Estimate" };
    reviewed.replaceChildren(
      el("table", { class: "reviewed-table" },
        el("thead", {}, el("tr", {}, ...["Card", "Kind", "Reviews", "Last grade", "Next due"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, ...progress.reviewed.map((c) =>
          el("tr", { "data-card": c.id, class: c.overdue ? "overdue" : null },
            el("th", { scope: "row", html: c.title_html }),
            el("td", { "data-label": "Kind" }, kinds[c.kind] || c.kind),
            el("td", { class: "n", "data-label": "Reviews" }, String(c.reviews)),
            el("td", { "data-label": "Last grade" }, c.last_rating ? RATING_WORDS[c.last_rating] || c.last_rating : "—"),
            el("td", { class: "due", "data-label": "Next due" }, dueText(c.due)))))));
  }

  // ---- Practice page ---------------------------------------------------------------------------------------

  function setupPractice(page) {
    const status = page.querySelector(".practice-status");
    const holder = page.querySelector(".practice-card");
    let cards = [];
    let index = 0;
    let reviewedCount = 0;
    // How many cards of this session got each grade, for the summary at its end.
    const grades = { again: 0, hard: 0, good: 0, easy: 0 };
    let onKey = null;

    // `fromButton`: the learner asked for the queue again from the end of a session; when nothing comes back,
    // the keyboard focus moves to the message that says why instead of being lost with the removed button.
    async function load(fromButton) {
      status.textContent = "Loading your queue…";
      holder.replaceChildren();
      try {
        const queue = await api("GET", "api/practice/queue?limit=50");
        cards = queue.cards;
        index = 0;
        // Each loaded queue is a session of its own, and its summary counts only its own cards.
        reviewedCount = 0;
        for (const g of Object.keys(grades)) grades[g] = 0;
        if (cards.length === 0) {
          await explainEmpty();
          if (fromButton === true) status.focus();
          return;
        }
        status.textContent = cards.length + " cards in this session: " + queue.due + " due, " + queue.new + " new.";
        show();
      } catch (err) {
        status.textContent = "Could not load the queue: " + err.message;
      }
    }

    // An empty queue means one of two things, and the learner should be told which: no lesson is marked done
    // yet, or every card of the lessons done has been reviewed and none is due (then: when the next one is).
    async function explainEmpty() {
      let progress = null;
      try {
        progress = await api("GET", "api/progress");
      } catch (_) {
        progress = null;
      }
      const doneLessons = progress ? progress.lessons.filter((l) => l.done) : [];
      if (doneLessons.length === 0) {
        status.replaceChildren("Nothing to practise yet. Cards come from lessons you have marked done: open a lesson from ",
          el("a", { href: root }, "the track"), ", read it, and press “Mark lesson done” at its end.");
        return;
      }
      const doneIds = new Set(doneLessons.map((l) => l.id));
      const upcoming = progress.reviewed.filter((c) => doneIds.has(c.lesson)).map((c) => c.due).sort((a, b) => new Date(a) - new Date(b));
      status.replaceChildren("Nothing is due: you have reviewed every card of the lessons you marked done.");
      if (upcoming.length > 0) status.append(" The next one is due " + dueText(upcoming[0]) + ".");
      if (progress.next) {
        status.append(" Meanwhile, the next lesson: ", el("a", { href: root + "lessons/" + encodeURIComponent(progress.next.id) + "/" }, progress.next.title), ".");
      }
    }

    function finish() {
      holder.replaceChildren(el("section", { class: "card-done" },
        el("h2", { tabindex: "-1" }, "Session done"),
        el("p", {}, "You reviewed " + reviewedCount + (reviewedCount === 1 ? " card" : " cards") +
          (reviewedCount > 0
            ? ": " + Object.entries(grades).filter(([, n]) => n > 0).map(([g, n]) => n + " " + g).join(", ") + "."
            : ".") +
          (grades.again > 0 ? " Cards graded again come back within minutes: load the queue again to retry them." : "")),
        el("p", {}, el("a", { href: root + "progress/" }, "See your progress"), " · ",
          el("button", { type: "button", class: "more" }, "Load the queue again"))));
      holder.querySelector(".more").addEventListener("click", () => load(true));
      holder.querySelector("h2").focus();
    }

    function show() {
      if (onKey) document.removeEventListener("keydown", onKey);
      onKey = null;
      if (index >= cards.length) {
        finish();
        return;
      }
      const card = cards[index];
      const kinds = { prompt: "Interview prompt", derive: "Derivation drill", estimate: "Estimation problem" };
      // A prompt's title is its question, shown in full just below, so its heading names the kind instead.
      // Titles are the course's own Markdown rendered on the server (maths as MathML), never learner text.
      const heading = card.kind === "prompt"
        ? el("h2", { tabindex: "-1", class: "card-title" }, card.prompt.level + " interview question")
        : el("h2", { tabindex: "-1", class: "card-title", html: card.title_html });
      const article = el("article", { class: "card card-" + card.kind, "data-card": card.id },
        el("p", { class: "meta" }, kinds[card.kind] + " · " + card.lesson_title + " · card " + (index + 1) + " of " + cards.length +
          (card.due ? " · due" : " · new")),
        heading);
      if (card.last) {
        // Only the last grade shows before the learner answers: their last answer would be a hint, and recalling
        // without one is the point of the review. The answer itself comes back after the reveal or the grade.
        article.append(el("p", { class: "last-time" }, "Last time (" + dayText(card.last.at) + "): graded " + (RATING_WORDS[card.last.rating] || card.last.rating) + "."));
      }
      holder.replaceChildren(article);
      if (card.kind === "prompt") promptCard(card, article);
      else if (card.kind === "derive") deriveCard(card, article);
      else estimateCard(card, article);
      heading.focus();
    }

    // Shows the graded result and a button to the next card.
    function feedbackBlock(article, answer, lines) {
      // An earlier failed attempt's message no longer applies once the card is graded.
      const stale = article.querySelector(".card-error");
      if (stale) stale.remove();
      const block = el("section", { class: "card-feedback rating-" + answer.rating, role: "status", tabindex: "-1" },
        el("p", { class: "grade" }, "Graded ", el("strong", {}, RATING_WORDS[answer.rating] || answer.rating), ". Next review ", el("span", { class: "next-due" }, dueText(answer.due)), "."),
        ...lines);
      const next = el("button", { type: "button", class: "next-card" }, index + 1 < cards.length ? "Next card" : "Finish");
      next.addEventListener("click", () => {
        index += 1;
        show();
      });
      block.append(el("p", {}, next));
      article.append(block);
      reviewedCount += 1;
      if (answer.rating in grades) grades[answer.rating] += 1;
      next.focus();
    }

    function errorLine(article, message) {
      let line = article.querySelector(".card-error");
      if (!line) {
        line = el("p", { class: "card-error", role: "alert" });
        article.append(line);
      }
      line.textContent = message;
    }

    function promptCard(card, article) {
      const p = card.prompt;
      const answerId = "answer-" + index;
      // 4000 characters (about 600 words) keep any answer, even in three-byte UTF-8, inside the server's
      // 16 KiB body limit.
      const textarea = el("textarea", { id: answerId, rows: "5", class: "prompt-answer", maxlength: "4000" });
      const reveal = el("button", { type: "button", class: "reveal" }, "Reveal rubric");
      const answering = el("div", { class: "answering" },
        el("label", { for: answerId }, "Your answer (optional; answering aloud works too)"),
        textarea,
        el("p", {}, reveal));
      article.append(el("div", { class: "question", html: p.question_html }), answering);
      const rubric = el("form", { class: "rubric", hidden: true });
      let n = 0;
      function points(title, list, name) {
        const set = el("fieldset", { class: "points " + name }, el("legend", {}, title));
        list.forEach((html, i) => {
          n += 1;
          const id = "pt-" + index + "-" + name + "-" + i;
          set.append(el("div", { class: "point" },
            el("input", { type: "checkbox", id, name, "data-key": n <= 9 ? String(n) : null }),
            el("label", { for: id }, el("span", { class: "key", "aria-hidden": "true" }, n <= 9 ? String(n) : ""), el("span", { html })
            )));
        });
        return set;
      }
      const mine = el("blockquote", { class: "your-answer" });
      rubric.append(
        el("p", { class: "hint" }, "Tick each point your answer covered (number keys 1–9 tick too), then submit. The grade follows from the ticks: every hire point and at least half of the strong ones is easy, every hire point good, at least half of them hard, fewer again."),
        el("div", { class: "your-answer-box" }, el("p", { class: "box-label" }, "Your answer"), mine),
        points("What a hire says", p.hire_html, "hire"),
        points("What a strong hire adds", p.strong_html, "strong"),
        el("details", { class: "weak" }, el("summary", {}, "A weak answer"), el("div", { html: p.weak_html })),
        el("details", { class: "followups" }, el("summary", {}, "Follow-up questions"), el("div", { html: p.followups_html })),
        el("p", {}, el("button", { type: "submit", class: "submit" }, "Submit")));
      article.append(rubric);

      reveal.addEventListener("click", () => {
        const typed = textarea.value.trim();
        mine.textContent = typed || "(no typed answer)";
        // What the learner wrote last time, as text (never HTML), to compare with today's answer and the rubric.
        if (card.last && typeof card.last.answer === "string" && !mine.parentNode.querySelector(".last-answer")) {
          mine.after(el("p", { class: "last-time" }, "Last time (" + dayText(card.last.at) + ") you wrote: ", el("q", { class: "last-answer" }, card.last.answer)));
        }
        // The answer is now fixed: it is shown back as text above the rubric, and the box goes away.
        answering.hidden = true;
        rubric.hidden = false;
        rubric.querySelector("input").focus();
        onKey = (event) => {
          if (event.target.tagName === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) return;
          const box = rubric.querySelector('input[data-key="' + event.key + '"]');
          if (box && !box.disabled) {
            box.checked = !box.checked;
            box.focus();
            event.preventDefault();
          }
        };
        document.addEventListener("keydown", onKey);
      });
      rubric.addEventListener("submit", async (event) => {
        event.preventDefault();
        const submit = rubric.querySelector(".submit");
        submit.disabled = true;
        const ticks = (name) => Array.from(rubric.querySelectorAll('input[name="' + name + '"]')).map((b) => b.checked);
        const body = { card: card.id, hire: ticks("hire"), strong: ticks("strong") };
        if (textarea.value.trim()) body.answer = textarea.value;
        try {
          const answer = await api("POST", "api/practice/reviews", body);
          for (const box of rubric.querySelectorAll("input")) box.disabled = true;
          const f = answer.feedback;
          feedbackBlock(article, answer, [el("p", {}, "You covered " + f.hire_ticked + " of " + f.hire_total + " hire points and " + f.strong_ticked + " of " + f.strong_total + " strong-hire points.")]);
        } catch (err) {
          submit.disabled = false;
          errorLine(article, "Could not submit: " + err.message);
        }
      });
    }

    function deriveCard(card, article) {
      const d = card.derive;
      const started = performance.now();
      let stoppedAt = null;
      let left = d.seconds;
      const timer = el("p", { class: "drill-timer", role: "timer", "aria-label": "time left" }, format(left));
      const timerNote = el("span", { class: "timer-note" }, "left to derive it alone");
      const steps = d.steps_html.map((html) => el("li", { class: "drill-step", hidden: true, html }));
      const list = el("ol", { class: "drill-steps" }, ...steps);
      const answer = d.answer_html
        ? el("div", { class: "drill-answer", hidden: true }, el("p", { class: "box-label" }, "Answer"), el("div", { html: d.answer_html }))
        : null;
      const next = el("button", { type: "button", class: "next-step" }, "Next step (1 of " + steps.length + ")");
      const check = el("div", { class: "self-check", role: "group", "aria-label": "How did it go?" },
        el("p", { class: "hint" }, "How did it go? Got it: you derived the whole result before looking. Partly: you needed a step or two. Missed: you could not start, or went wrong."),
        ...[["got", "Got it"], ["partly", "Partly"], ["missed", "Missed"]].map(([value, label]) =>
          el("button", { type: "button", class: "check", "data-check": value }, label)));
      article.append(el("div", { class: "question", html: d.prompt_html }), el("div", { class: "drill-clock" }, timer, timerNote),
        el("p", { class: "hint" }, "Derive it on paper first; reveal the steps one at a time to check, then say how it went."),
        el("p", {}, next), list);
      if (answer) article.append(answer);
      article.append(check);

      function format(s) {
        return Math.floor(s / 60) + ":" + String(Math.max(0, s) % 60).padStart(2, "0");
      }
      const interval = window.setInterval(() => {
        left -= 1;
        timer.textContent = left > 0 ? format(left) : "time — now check your steps";
        if (left <= 0) {
          timerNote.textContent = "";
          timer.classList.add("timeout");
          window.clearInterval(interval);
        }
      }, 1000);
      // The drill's time is the time spent deriving alone: it stops at the first revealed step or the self-check.
      function stop() {
        if (stoppedAt === null) {
          stoppedAt = performance.now();
          if (left > 0) timerNote.textContent = "left when you stopped the clock";
        }
        window.clearInterval(interval);
      }
      let shown = 0;
      next.addEventListener("click", () => {
        stop();
        if (shown < steps.length) steps[shown].hidden = false;
        shown += 1;
        if (shown >= steps.length) {
          if (answer) answer.hidden = false;
          next.disabled = true;
          next.textContent = "All steps shown";
        } else {
          next.textContent = "Next step (" + (shown + 1) + " of " + steps.length + ")";
        }
      });
      for (const button of check.querySelectorAll("button")) {
        button.addEventListener("click", async () => {
          stop();
          const seconds = Math.round((stoppedAt - started) / 100) / 10;
          for (const b of check.querySelectorAll("button")) b.disabled = true;
          try {
            const reply = await api("POST", "api/practice/reviews", { card: card.id, self_check: button.dataset.check, seconds });
            for (const s of steps) s.hidden = false;
            if (answer) answer.hidden = false;
            next.disabled = true;
            next.textContent = "All steps shown";
            button.classList.add("chosen");
            feedbackBlock(article, reply, [el("p", {}, "You said “" + button.textContent + "” after " + seconds + " s on your own (the drill allows " + d.seconds + " s).")]);
          } catch (err) {
            for (const b of check.querySelectorAll("button")) b.disabled = false;
            errorLine(article, "Could not submit: " + err.message);
          }
        });
      }
    }

    function estimateCard(card, article) {
      const e = card.estimate;
      // "within 5 %" must not break between the number and its sign.
      const tolerance = (text) => text.replace(/ %/g, "\u00a0%");
      if (e.error) {
        article.append(el("p", { class: "card-error" }, e.error));
        return;
      }
      const inputId = "estimate-" + index;
      const input = el("input", { id: inputId, type: "text", inputmode: "decimal", autocomplete: "off", class: "estimate-value", required: true });
      const form = el("form", { class: "estimate-form" },
        el("label", { for: inputId }, "Your answer" + (e.unit ? " (" + e.unit + ")" : "")),
        el("div", { class: "estimate-row" }, input, el("button", { type: "submit", class: "submit" }, "Submit")),
        el("p", { class: "hint" }, "Accepted " + tolerance(e.tolerance_text) + ". Type only the number" + (e.unit ? ", in " + e.unit : "") + ": 2500, 2,500, 2.5e3 and 2.5\u00a0×\u00a010^3 are all read."));
      article.append(el("div", { class: "question", html: e.question_html }), form);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const submit = form.querySelector(".submit");
        submit.disabled = true;
        try {
          const reply = await api("POST", "api/practice/reviews", { card: card.id, seed: e.seed, value: input.value });
          input.readOnly = true;
          const f = reply.feedback;
          const unit = f.unit ? " " + f.unit : "";
          feedbackBlock(article, reply, [
            el("p", { class: "verdict " + (f.within ? "within" : "outside") },
              f.within ? "Within tolerance. " : "Outside the tolerance. ",
              "You said ", el("span", { class: "value" }, num(f.value) + unit), "; the answer is ",
              el("strong", { class: "truth" }, num(f.truth) + unit), " (" + errorText(f.value, f.truth, f.rel_error, f.unit) + "; accepted " + tolerance(f.tolerance_text) + ")."),
            card.last && typeof card.last.value === "number"
              ? el("p", { class: "last-time" }, "Last time (" + dayText(card.last.at) + "), on other numbers, you answered " + num(card.last.value) + unit + ".")
              : null,
            el("p", { class: "box-label" }, "Worked solution"),
            el("ol", { class: "solution" }, ...f.solution_html.map((html) => el("li", { html })))]);
        } catch (err) {
          submit.disabled = false;
          errorLine(article, err.message);
          input.focus();
        }
      });
    }

    load();
  }

  // ---- Start ---------------------------------------------------------------------------------------------

  async function main() {
    const practicePage = document.querySelector("[data-practice]");
    const progressPage = document.querySelector("[data-progress]");
    if (!live) {
      // Only reachable on a server started without a progress store: say so instead of loading forever.
      const message = "Practice and progress need the progress store that `dlf serve` opens; this server runs without one.";
      if (practicePage) practicePage.querySelector(".practice-status").textContent = message;
      if (progressPage) progressPage.querySelector(".progress-status").textContent = message;
      return;
    }
    if (practicePage) setupPractice(practicePage);
    const doneSection = document.querySelector(".lesson-done");
    const trackLine = document.querySelector(".track-progress");
    if (!doneSection && !trackLine && !progressPage) return;
    let progress;
    try {
      progress = await api("GET", "api/progress");
    } catch (err) {
      if (progressPage) progressPage.querySelector(".progress-status").textContent = "Could not load your progress: " + err.message;
      return;
    }
    if (doneSection) setupLessonDone(doneSection, progress);
    if (trackLine) setupTrack(trackLine, progress);
    if (progressPage) renderProgress(progressPage, progress);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
