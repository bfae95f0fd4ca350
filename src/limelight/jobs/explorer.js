"use strict";
// limelight dataset explorer: every value from the data is written with textContent, never as markup.
(function () {
  const data = JSON.parse(document.getElementById("ll-data").textContent);
  const rows = data.rows;
  const PAGE = 50;
  const state = { sort: null, dir: 1, page: 0, shown: rows, selected: null };
  const $ = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const fmt = (x, digits) => (x === null || x === undefined ? "" : Number(x).toFixed(digits));
  for (const r of rows) r.s = (r.t + (r.o ? "\n" + r.o : "")).toLowerCase();

  const header = $("header");
  header.append($("h1", {}, data.title), $("div", { class: "ll-muted" }, "colour: " + data.scale));
  const controls = $("div", { id: "ll-controls" });
  const options = (values) => ["", ...Array.from(new Set(values.filter((v) => v !== null))).sort()];
  const select = (id, caption, values) => {
    const s = $("select", { id: id });
    for (const v of values) s.append($("option", { value: v }, v === "" ? "any" : v));
    const l = $("label", {}, caption);
    l.append(s);
    controls.append(l);
    return s;
  };
  const fLabel = select("ll-label", "true label", options(rows.map((r) => r.l)));
  const fPred = select("ll-prediction", "predicted", options(rows.map((r) => r.p)));
  const fCorrect = select("ll-correct", "outcome", ["", "correct", "incorrect"]);
  const number = (id, caption, value) => {
    const i = $("input", { id: id, type: "number", min: "0", max: "1", step: "0.05", value: value });
    const l = $("label", {}, caption);
    l.append(i);
    controls.append(l);
    return i;
  };
  const fMin = number("ll-pmin", "p from", "0");
  const fMax = number("ll-pmax", "to", "1");
  const check = (id, caption) => {
    const i = $("input", { id: id, type: "checkbox" });
    const l = $("label", {}, caption);
    l.prepend(i);
    controls.append(l);
    return i;
  };
  const fUnconv = check("ll-unconverged", "unconverged only");
  const fFailed = check("ll-failed", "failed only");
  const kind = data.kind || "text";
  const noun = { text: "texts", image: "image names", generation: "prompts and generations" }[kind];
  const fSearch = $("input", { id: "ll-search", type: "search", placeholder: "search " + noun });
  controls.append(fSearch);
  const count = $("span", { id: "ll-count", class: "ll-muted" });
  controls.append(count);

  const columns = {
    text: [["i", "id"], ["t", "text"], ["l", "true label"], ["p", "prediction"], ["g", "target"], ["q", "probability"], ["d", "delta"]],
    image: [["i", "id"], ["t", "image"], ["l", "true label"], ["p", "prediction"], ["g", "target"], ["q", "probability"], ["d", "delta"]],
    generation: [["i", "id"], ["t", "prompt"], ["o", "generated"], ["g", "target"], ["d", "max |delta|"]],
  }[kind];
  // a thumbnail is drawn only from the PNG data URI the page was written with (the policy allows data: images, nothing else)
  const PNG = "data:image/png;base64,";
  const picture = (r, cls) => (typeof r.m === "string" && r.m.startsWith(PNG) ? $("img", { class: cls, src: r.m, alt: "overlay of " + r.t }) : null);
  const table = $("table", { id: "ll-table" });
  const headRow = $("tr");
  for (const [key, caption] of columns) {
    const th = $("th", { "data-key": key }, caption);
    th.addEventListener("click", () => {
      state.dir = state.sort === key ? -state.dir : 1;
      state.sort = key;
      for (const other of headRow.children) other.removeAttribute("data-dir");
      th.setAttribute("data-dir", state.dir > 0 ? "asc" : "desc");
      update();
    });
    headRow.append(th);
  }
  const thead = $("thead");
  thead.append(headRow);
  const tbody = $("tbody");
  table.append(thead, tbody);
  const pager = $("div", { id: "ll-pager" });
  const prev = $("button", { id: "ll-prev" }, "previous");
  const next = $("button", { id: "ll-next" }, "next");
  const pageInfo = $("span", { id: "ll-page", class: "ll-muted" });
  pager.append(prev, " ", pageInfo, " ", next);
  prev.addEventListener("click", () => { state.page = Math.max(0, state.page - 1); draw(); });
  next.addEventListener("click", () => { state.page = Math.min(pages() - 1, state.page + 1); draw(); });
  const wrap = $("div", { id: "ll-table-wrap" });
  wrap.append(table, pager);
  const detail = $("div", { id: "ll-detail" }, "Click a row to see its " + (kind === "image" ? "overlay" : "full heatmap, top words") + " and evidence.");
  const main = $("div", { id: "ll-main" });
  main.append(wrap, detail);
  const charts = $("div", { id: "ll-charts" });
  document.body.append(header, controls, main, charts);

  function heat(row, into) {
    for (const piece of row.h) {
      if (piece[1] === null) { into.append(document.createTextNode(piece[0])); continue; }
      const w = $("span", { class: piece[4] ? "ll-w ll-sat" : "ll-w", title: Number(piece[1]).toPrecision(4) }, piece[0]);
      w.style.backgroundColor = piece[2];
      w.style.color = piece[3];
      into.append(w);
    }
    return into;
  }
  const pages = () => Math.max(1, Math.ceil(state.shown.length / PAGE));
  function keep(r) {
    if (fLabel.value && r.l !== fLabel.value) return false;
    if (fPred.value && r.p !== fPred.value) return false;
    if (fCorrect.value === "correct" && r.k !== true) return false;
    if (fCorrect.value === "incorrect" && r.k !== false) return false;
    const lo = parseFloat(fMin.value), hi = parseFloat(fMax.value);
    if ((!isNaN(lo) && lo > 0) || (!isNaN(hi) && hi < 1)) {
      if (r.q === null || (!isNaN(lo) && r.q < lo) || (!isNaN(hi) && r.q > hi)) return false;
    }
    if (fUnconv.checked && r.c !== false) return false;
    if (fFailed.checked && r.e === null) return false;
    const q = fSearch.value.trim().toLowerCase();
    return !q || r.s.includes(q);
  }
  function compare(a, b) {
    const x = a[state.sort], y = b[state.sort];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * state.dir;
  }
  function update() {
    state.shown = rows.filter(keep);
    if (state.sort) state.shown = state.shown.slice().sort(compare);
    state.page = 0;
    draw();
  }
  function draw() {
    const start = state.page * PAGE;
    const fragment = document.createDocumentFragment();
    for (const r of state.shown.slice(start, start + PAGE)) {
      const tr = $("tr", { "data-id": r.i });
      tr.append($("td", {}, r.i));
      const text = $("td", { class: "ll-text" });
      const thumb = picture(r, "ll-thumb");
      if (thumb) text.append(thumb);
      text.append(heat(r, $("div")));
      if (r.e !== null) text.append($("div", { class: "ll-bad" }, "failed: " + r.e));
      tr.append(text);
      if (kind === "generation") tr.append($("td", { class: "ll-generated" }, r.o), $("td", {}, r.g));
      else tr.append($("td", {}, r.l), $("td", { class: r.k === false ? "ll-wrong" : "" }, r.p), $("td", {}, r.g), $("td", {}, fmt(r.q, 3)));
      tr.append($("td", { class: r.c === false ? "ll-bad" : "" }, fmt(r.d, 4)));
      tr.addEventListener("click", () => show(r, tr));
      fragment.append(tr);
    }
    tbody.replaceChildren(fragment);
    count.textContent = state.shown.length + " of " + rows.length + " rows";
    pageInfo.textContent = "page " + (state.page + 1) + " of " + pages();
  }
  function show(r, tr) {
    for (const other of tbody.querySelectorAll(".ll-selected")) other.classList.remove("ll-selected");
    tr.classList.add("ll-selected");
    const box = $("div");
    box.append($("h2", {}, "id " + r.i));
    const large = picture(r, "ll-picture");
    if (large) box.append(large);
    box.append(heat(r, $("div", { class: "ll-full" })));
    const facts = [
      ["generated", r.o], ["true label", r.l], ["prediction", r.p], ["target", r.g], ["probability", fmt(r.q, 4)],
      [kind === "generation" ? "max |delta|" : "delta", fmt(r.d, 6)], ["converged", r.c === null ? "" : String(r.c)], ["steps", r.n],
      ["error", r.e],
    ];
    const list = $("dl");
    for (const [k, v] of facts) if (v !== null && v !== undefined && v !== "") list.append($("dt", {}, k), $("dd", {}, v));
    box.append(list);
    if (kind !== "image") box.append($("h3", {}, kind === "generation" ? "top prompt features" : "top words"));
    const top = $("ol", { id: "ll-top" });
    for (const [w, s] of r.w) top.append($("li", {}, w + "  " + Number(s).toPrecision(4)));
    box.append(top);
    detail.replaceChildren(box);
  }
  for (const [label, bars] of Object.entries(data.charts)) {
    const chart = $("div", { class: "ll-chart" });
    chart.append($("h3", {}, label + (kind === "generation" ? ": top prompt words" : ": top words") + " by mean attribution (95% interval)"));
    const limit = Math.max(1e-12, ...bars.map((b) => Math.max(Math.abs(b[1]), Math.abs(b[2]), Math.abs(b[3]))));
    for (const [word, mean, low, high, n] of bars) {
      const line = $("div", { class: "ll-bar-row" });
      const track = $("div", { class: "ll-bar-track" });
      const bar = $("div", { class: "ll-bar" });
      const width = (50 * Math.abs(mean)) / limit;
      bar.style.left = (mean >= 0 ? 50 : 50 - width) + "%";
      bar.style.width = width + "%";
      bar.style.backgroundColor = mean >= 0 ? data.colors[0] : data.colors[1];
      track.append(bar);
      line.append($("span", { title: word }, word), track, $("span", {}, fmt(mean, 4) + " [" + fmt(low, 4) + ", " + fmt(high, 4) + "] n=" + n));
      chart.append(line);
    }
    charts.append(chart);
  }
  for (const control of [fLabel, fPred, fCorrect, fMin, fMax, fUnconv, fFailed]) control.addEventListener("change", update);
  fSearch.addEventListener("input", update);
  update();
  document.body.setAttribute("data-ready", "1");
})();
