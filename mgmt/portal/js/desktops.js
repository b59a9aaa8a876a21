// A tenant administrator's desktops: create from a model, start, stop, reboot, delete, move
// (the roaming connect from a place), the users assigned, the running ones' console links;
// jobs followed live.
import { api } from "./api.js";
import { consoleLinks } from "./consolelinks.js";
import { clear, el, guard, showInfo, table } from "./dom.js";
import { watchJob } from "./jobwatch.js";

export async function render(root) {
  const watchers = new Set();
  const jobLines = new Map(); // desktop id -> its job's last line
  const list = el("div", { id: "desktop-list" });
  const models = await api("GET", "models");
  const name = el("input", { id: "new-desktop-name", placeholder: "name", required: true });
  const model = el("select", { id: "new-desktop-model" }, models.map(m => el("option", { value: m.name, text: `${m.name} (${m.vcpus} vCPU, ${m.memory_mb} MiB)` })));

  const follow = (desktop, jobId) => {
    const stop = watchJob(jobId, text => {
      jobLines.set(desktop, text);
      const cell = document.getElementById(`job-${desktop}`);
      if (cell) cell.textContent = text;
    }, () => {
      watchers.delete(stop);
      refresh();
    });
    watchers.add(stop);
  };
  const act = (d, what) => guard(async () => {
    const r = what === "delete" ? await api("DELETE", `desktops/${d.id}`) : await api("POST", `desktops/${d.id}/${what}`);
    const job = r && (r.job || r);
    if (job && job.id) follow(d.id, job.id);
  });
  const move = d => {
    const from = el("input", { id: `move-from-${d.id}`, placeholder: "site, LAT,LON or IPv4", size: 14 });
    return el("form", { class: "row", onsubmit: guard(async () => {
      const r = await api("POST", `desktops/${d.id}/connect`, { from: from.value });
      showInfo(`${d.name}: ${r.moved ? "moved to" : "stays at"} site ${r.site}, host ${r.host}${r.reason ? " (" + r.reason + ")" : ""}${r.task_error ? " (" + r.task_error + ")" : ""}`);
      if (r.job) follow(d.id, typeof r.job === "object" ? r.job.id : r.job);
      refresh();
    }) }, from, el("button", { type: "submit", text: "Move" }));
  };
  const assign = d => {
    const names = el("input", { id: `users-of-${d.id}`, value: (d.users || []).join(", "), size: 14 });
    return el("form", { class: "row", onsubmit: guard(async () => {
      const list = names.value.split(",").map(s => s.trim()).filter(Boolean);
      await api("PUT", `desktops/${d.id}/users`, { users: list });
      showInfo(`${d.name}: users ${list.join(", ") || "none"}`);
      refresh();
    }) }, names, el("button", { type: "submit", text: "Assign" }));
  };
  const actions = d => el("span", { class: "row" },
    ["start", "stop", "reboot", "delete"].map(w => el("button", { type: "button", "data-action": w, "data-desktop": d.name, text: w, onclick: act(d, w) })));

  async function refresh() {
    const ds = await api("GET", "desktops");
    clear(list, ds.length ? table([
      ["Name", d => d.name], ["Model", d => d.model],
      ["State", d => el("span", { class: `state-${d.state}`, id: `state-${d.name}`, text: d.state })],
      ["Host", d => d.host], ["Address", d => d.address || ""], ["Actions", actions], ["Console", consoleLinks], ["Move", move], ["Users", assign],
      ["Job", d => el("span", { class: "job", id: `job-${d.id}`, text: jobLines.get(d.id) || "" })],
    ], ds, { id: "desktops" }) : el("p", { class: "muted", text: "No desktops yet." }));
  }

  clear(root,
    el("form", { id: "create-desktop", onsubmit: guard(async () => {
      const r = await api("POST", "desktops", { name: name.value, model: model.value });
      name.value = "";
      await refresh();
      follow(r.desktop.id, r.job.id);
    }) }, name, model, el("button", { id: "create-desktop-submit", type: "submit", text: "Create desktop" })),
    list);
  await refresh();
  return () => watchers.forEach(stop => stop());
}
