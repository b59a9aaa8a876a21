// A period to report on: a choice of the last day, week or 30 days, or a calendar month.
import { el } from "./dom.js";

const HOUR = 3600, DAY = 86400;

function monthStart(d, back) {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1) / 1000;
}

export function periodPicker(id, changed) {
  const sel = el("select", { id }, [
    ["day", "last 24 hours"], ["week", "last 7 days"], ["month30", "last 30 days"],
    ["this", "this month"], ["last", "last month"],
  ].map(([v, t]) => el("option", { value: v, text: t })));
  sel.addEventListener("change", changed);
  return sel;
}

// {from, to, step} of the picker's choice (to: the next hour, so this hour's rows count).
export function periodOf(sel) {
  const now = Math.floor(Date.now() / 1000);
  const to = now - (now % HOUR) + HOUR;
  const d = new Date();
  switch (sel.value) {
    case "week": return { from: to - 7 * DAY, to, step: "hour" };
    case "month30": return { from: to - 30 * DAY, to, step: "day" };
    case "this": return { from: monthStart(d, 0), to, step: "day" };
    case "last": return { from: monthStart(d, 1), to: monthStart(d, 0), step: "day" };
    default: return { from: to - DAY, to, step: "hour" };
  }
}
