// The provider's tenants and their quotas with use, and each tenant's desktops and usage.
import { api } from "./api.js";
import { clear, el, table } from "./dom.js";
import { quotaTable } from "./quotas.js";

export async function render(root) {
  const [tenants, quotas, usage] = await Promise.all([api("GET", "tenants"), api("GET", "quotas"), api("GET", "usage")]);
  const use = new Map((usage.tenants || []).map(t => [t.tenant, t]));
  clear(root,
    table([["Name", t => t.name], ["Organization", t => t.org_id], ["Data center", t => t.datacenter],
      ["VLAN", t => `${t.vlan} (${t.vlan_name})`], ["Desktops", t => (use.get(t.name) || {}).desktops || 0],
      ["Running", t => (use.get(t.name) || {}).running || 0]], tenants, { id: "tenants" }),
    el("h2", { text: "Quotas" }), quotaTable(quotas));
}
