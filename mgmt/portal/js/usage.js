// A tenant administrator's usage and cost over a period: charts per bucket from the usage
// history priced at today's rates, and the chargeback's per-desktop totals.
import { api, query } from "./api.js";
import { clear, el, fmtNum, guard, table } from "./dom.js";
import { perBucket, timeChart } from "./chart.js";
import { periodOf, periodPicker } from "./period.js";

// A history row's cost at the rates (a model's own prices replace both).
export function rowCost(rates, r) {
  const m = (rates.models || []).find(x => x.model === r.model) || rates;
  return (r.vcpu_s / 3600) * m.vcpu_hour + (r.mem_mib_s / 3600 / 1024) * m.gib_hour;
}

export async function render(root, session) {
  const out = el("div");
  const pick = periodPicker("usage-period", guard(() => load()));
  const load = async () => {
    const p = periodOf(pick);
    const [hist, rates, cb] = await Promise.all([
      api("GET", "usage/history" + query({ ...p, tenant: session.tenant })),
      api("GET", "rates"),
      api("GET", "chargeback" + query({ from: p.from, to: p.to, tenant: session.tenant })),
    ]);
    const t = (cb.tenants || [])[0] || { cost: 0, desktops: [] };
    clear(out,
      timeChart(perBucket(hist.rows, r => r.vcpu_s / 3600), p, "vCPU-hours reserved per " + p.step, "vCPU-h"),
      timeChart(perBucket(hist.rows, r => r.run_s / 3600), p, "hours running per " + p.step, "h"),
      timeChart(perBucket(hist.rows, r => rowCost(rates, r)), p, `cost per ${p.step} (${rates.currency})`, rates.currency),
      el("p", { id: "tenant-cost", text: `Cost of the period: ${fmtNum(t.cost, 2)} ${cb.currency}` }),
      table([["Desktop", d => d.desktop], ["Model", d => d.model], ["Hours", d => fmtNum(d.hours)],
        ["vCPU-hours", d => fmtNum(d.vcpu_hours)], ["GiB-hours", d => fmtNum(d.gib_hours)],
        ["Hours running", d => fmtNum(d.run_hours)], ["Cost", d => `${fmtNum(d.cost, 2)} ${cb.currency}`]], t.desktops || []));
  };
  clear(root, el("div", { class: "row" }, "Period: ", pick), out);
  await load();
}
