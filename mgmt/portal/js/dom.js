// Building the page: every value goes in as text (textContent, attributes), never as HTML.
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = String(v);
    else if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  add(e, children);
  return e;
}

function add(e, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(e, ...children) {
  e.replaceChildren();
  add(e, children);
  return e;
}

// A table of rows: cols are [heading, row => cell (text or a node)].
export function table(cols, rows, props = {}) {
  return el("table", props,
    el("thead", {}, el("tr", {}, cols.map(([h]) => el("th", { text: h })))),
    el("tbody", {}, rows.map(r => el("tr", {}, cols.map(([, f]) => el("td", {}, f(r)))))));
}

// A use bar: a <meter> with its numbers beside it.
export function bar(used, max, unit, name) {
  return el("span", { class: "use" },
    el("meter", { min: 0, max: max || 1, value: used, "data-name": name, title: `${used} of ${max} ${unit}` }),
    ` ${used} / ${max} ${unit}`);
}

const status = () => document.getElementById("status");

export function showError(err) {
  const s = status();
  s.className = "";
  s.textContent = err && err.message ? err.message : String(err);
  s.hidden = false;
}

export function showInfo(text) {
  const s = status();
  s.className = "info";
  s.textContent = text;
  s.hidden = false;
}

export function hideStatus() {
  status().hidden = true;
}

// Runs an async action from a button or form, its error shown.
export function guard(f) {
  return async ev => {
    if (ev && ev.preventDefault) ev.preventDefault();
    hideStatus();
    try {
      await f(ev);
    } catch (e) {
      showError(e);
    }
  };
}

export function fmtTime(epoch) {
  return epoch ? new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19) : "";
}

export function fmtNum(v, digits = 2) {
  return Number(v || 0).toFixed(digits);
}
