// Quotas with their use as bars (a tenant administrator's own; the provider's view of all).
import { api } from "./api.js";
import { bar, clear, el, table } from "./dom.js";

export function quotaTable(qs) {
  return qs.length ? table([
    ["Tenant", q => q.tenant], ["Model", q => q.model],
    ["vCPUs", q => bar(q.cpus_used, q.max_cpus, "vCPUs", `cpus-${q.tenant}-${q.model}`)],
    ["Memory", q => bar(q.memory_used_mb, q.max_memory_mb, "MiB", `mem-${q.tenant}-${q.model}`)],
    ["Hosts", q => (q.hosts || []).map(h => h.host || h).join(", ")],
  ], qs, { id: "quotas" }) : el("p", { class: "muted", text: "No quotas." });
}

export async function render(root) {
  clear(root, quotaTable(await api("GET", "quotas")));
}
