// The audit log, newest first (a tenant administrator's own tenant; the provider's all).
import { api, query } from "./api.js";
import { clear, el, fmtTime, guard, table } from "./dom.js";

export async function render(root, session) {
  const action = el("input", { id: "audit-action", placeholder: "action, e.g. POST desktops" });
  const tenant = el("input", { id: "audit-tenant", placeholder: "tenant" });
  const out = el("div");
  const load = async () => {
    const rows = await api("GET", "audit" + query({ limit: 200, action: action.value, tenant: session.role === "provider" ? tenant.value : "" }));
    clear(out, table([["Time", a => fmtTime(a.time)], ["Principal", a => a.principal], ["Role", a => a.role],
      ["Tenant", a => a.tenant], ["Action", a => a.action], ["Target", a => a.target], ["Result", a => a.result]], rows, { id: "audit" }));
  };
  clear(root, el("form", { onsubmit: guard(load) }, action, session.role === "provider" ? tenant : null,
    el("button", { type: "submit", text: "Show" })), out);
  await load();
}
