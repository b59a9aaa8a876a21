// The provider's jobs, newest first, with each workflow task's result. Refreshed on demand
// only: a page that polls by itself would keep an idle session alive.
import { api } from "./api.js";
import { clear, el, fmtTime, guard, table } from "./dom.js";

export async function render(root) {
  const out = el("div");
  const load = async () => {
    const js = (await api("GET", "jobs")).sort((a, b) => b.id - a.id).slice(0, 200);
    clear(out, table([["Id", j => j.id], ["Kind", j => j.kind], ["State", j => el("span", { class: `state-${j.state}`, text: j.state })],
      ["Desktop", j => j.desktop_id], ["Created", j => fmtTime(j.created)], ["Finished", j => fmtTime(j.finished)],
      ["Tasks", j => (j.tasks || []).map(t => `${t.name}: ${t.state || ""}`).join(", ")], ["Error", j => j.error]], js, { id: "jobs" }));
  };
  clear(root, el("button", { type: "button", text: "Refresh", onclick: guard(load) }), out);
  await load();
}
