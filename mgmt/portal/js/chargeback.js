// The provider's chargeback per period: each tenant's cost and desktops, the total, the rates,
// and the period's CSV (the same query with format=csv; the session cookie goes with the link).
import { api, apiUrl, query } from "./api.js";
import { clear, el, fmtNum, guard, table } from "./dom.js";
import { periodOf, periodPicker } from "./period.js";

export async function render(root) {
  const out = el("div");
  const pick = periodPicker("chargeback-period", guard(() => load()));
  const load = async () => {
    const p = { from: periodOf(pick).from, to: periodOf(pick).to };
    const [cb, rates] = await Promise.all([api("GET", "chargeback" + query(p)), api("GET", "rates")]);
    const cur = cb.currency;
    clear(out,
      el("p", {}, el("a", { id: "chargeback-csv", href: apiUrl("chargeback" + query({ ...p, format: "csv" })), download: "chargeback.csv", text: "Download CSV" })),
      el("p", { text: `Rates: ${rates.vcpu_hour} ${rates.currency} per vCPU-hour, ${rates.gib_hour} per GiB-hour` +
        (rates.models || []).map(m => `; ${m.model}: ${m.vcpu_hour} and ${m.gib_hour}`).join("") }),
      table([["Tenant", t => t.tenant], ["Desktops", t => (t.desktops || []).length],
        ["vCPU-hours", t => fmtNum((t.desktops || []).reduce((a, d) => a + d.vcpu_hours, 0))],
        ["Cost", t => el("span", { class: "cost", "data-tenant": t.tenant, text: `${fmtNum(t.cost, 2)} ${cur}` })]], cb.tenants || [], { id: "chargeback" }),
      el("p", { id: "chargeback-total", text: `Total: ${fmtNum(cb.total, 2)} ${cur}` }),
      (cb.tenants || []).map(t => el("details", {}, el("summary", { text: `${t.tenant}: desktops` }),
        table([["Desktop", d => d.desktop], ["Model", d => d.model], ["Hours", d => fmtNum(d.hours)],
          ["vCPU-hours", d => fmtNum(d.vcpu_hours)], ["GiB-hours", d => fmtNum(d.gib_hours)], ["Cost", d => `${fmtNum(d.cost, 2)} ${cur}`]], t.desktops || []))));
  };
  clear(root, el("div", { class: "row" }, "Period: ", pick), out);
  await load();
}
