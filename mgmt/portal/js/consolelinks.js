// The links to a running desktop's consoles (console.html, in a tab of their own), or nothing.
import { el } from "./dom.js";

export function consoleLinks(d) {
  if (d.state !== "running") return null;
  const link = (type, text) => el("a", {
    href: `console.html?desktop=${encodeURIComponent(d.id)}${type ? "&type=" + type : ""}`,
    id: `console-${type || "vnc"}-${d.id}`, class: "console-link", target: "_blank", rel: "noopener", text,
  });
  return el("span", { class: "row console-links" }, link("", "Console"), link("serial", "Serial console"));
}
