// An end user's desktops: state, start/stop/reboot, and connect: the roaming connect from the
// browser's location (if the user allows it) or the place typed, then where to connect (the
// site and host), and for a running desktop the links to its consoles in the browser.
import { api } from "./api.js";
import { consoleLinks } from "./consolelinks.js";
import { clear, el, guard, showInfo } from "./dom.js";
import { watchJob } from "./jobwatch.js";

// "LAT,LON" of the browser, or "" if it has none or the user says no (within 5 s).
function locate() {
  return new Promise(resolve => {
    if (!navigator.geolocation) return resolve("");
    navigator.geolocation.getCurrentPosition(
      p => resolve(`${p.coords.latitude.toFixed(4)},${p.coords.longitude.toFixed(4)}`),
      () => resolve(""), { timeout: 5000, maximumAge: 600000 });
  });
}

export async function render(root) {
  const watchers = new Set();
  const load = async () => {
    const ds = await api("GET", "desktops");
    clear(root, ds.length ? ds.map(card) : el("p", { class: "muted", text: "No desktop is assigned to you." }));
  };
  const card = d => {
    const from = el("input", { id: `from-${d.id}`, placeholder: "your site, address or LAT,LON", size: 24 });
    const where = el("div", { id: `where-${d.id}` });
    const job = el("span", { class: "job", id: `job-${d.id}` });
    const act = what => guard(async () => {
      const r = await api("POST", `desktops/${d.id}/${what}`);
      const j = r && (r.job || r);
      if (j && j.id) {
        const stop = watchJob(j.id, text => { job.textContent = text; }, () => { watchers.delete(stop); load(); });
        watchers.add(stop);
      }
    });
    const connect = guard(async () => {
      let place = from.value.trim();
      if (!place) place = await locate();
      if (!place) throw new Error("Say where you are (your site, IPv4 address or LAT,LON), or allow the location.");
      showInfo(`Connecting ${d.name}...`);
      const r = await api("POST", `desktops/${d.id}/connect`, { from: place });
      clear(where, el("div", { class: "where" },
        el("p", { text: `Connect to desktop ${r.desktop} on host ${r.host} at site ${r.site}` }),
        el("p", { text: r.moved ? `It was moved for you from ${r.from_site || "its site"}` + (r.move_ms !== undefined ? ` in ${r.move_ms} ms.` : ".") : `It stays where it is${r.reason ? ": " + r.reason : "."}` }),
        el("p", { text: `State: ${r.state || d.state}` }),
        r.task_error ? el("p", { class: "error", text: r.task_error }) : null));
      showInfo(`${d.name}: ready at ${r.site}`);
    });
    return el("div", { class: "card", id: `desktop-${d.id}`, "data-name": d.name },
      el("h2", { text: d.name }),
      el("p", {}, "State: ", el("span", { class: `state-${d.state}`, id: `state-${d.name}`, text: d.state }), ` (model ${d.model})`),
      el("div", { class: "row" }, ["start", "stop", "reboot"].map(w => el("button", { type: "button", "data-action": w, text: w, onclick: act(w) })), job),
      el("form", { class: "row", onsubmit: connect }, from, el("button", { type: "submit", id: `connect-${d.id}`, text: "Connect" })),
      consoleLinks(d), where);
  };
  await load();
  return () => watchers.forEach(stop => stop());
}
