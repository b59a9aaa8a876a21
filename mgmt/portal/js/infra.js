// The provider's sites and hosts: each host's capacity and use as bars and a chart, and the
// vCPU-hours reserved over a period across tenants.
import { api, query } from "./api.js";
import { bar, clear, el, guard, table } from "./dom.js";
import { barChart, perBucket, timeChart } from "./chart.js";
import { periodOf, periodPicker } from "./period.js";

export async function render(root) {
  const [sites, hosts, usage] = await Promise.all([api("GET", "sites"), api("GET", "hosts"), api("GET", "usage")]);
  const used = new Map((usage.hosts || []).map(h => [h.host, h]));
  const hist = el("div");
  const pick = periodPicker("infra-period", guard(() => loadHist()));
  const loadHist = async () => {
    const p = periodOf(pick);
    const h = await api("GET", "usage/history" + query(p));
    clear(hist, timeChart(perBucket(h.rows, r => r.vcpu_s / 3600), p, `vCPU-hours reserved per ${p.step}, all tenants`, "vCPU-h"));
  };
  const u = h => used.get(h.name) || h;
  clear(root,
    el("h2", { text: "Sites" }),
    table([["Name", s => s.name], ["Location", s => `${s.latitude}, ${s.longitude}`], ["Client prefixes", s => (s.client_prefixes || []).join(", ")],
      ["Hosts", s => hosts.filter(h => h.site === s.name).length]], sites, { id: "sites" }),
    el("h2", { text: "Hosts" }),
    table([["Name", h => h.name], ["Site", h => h.site], ["Up", h => (h.up ? "up" : `down: ${h.down_reason || ""}`)],
      ["vCPUs", h => bar(u(h).vcpus_used, u(h).cpu_capacity, "vCPUs", `host-cpus-${h.name}`)],
      ["Memory", h => bar(u(h).memory_used_mb, u(h).memory_capacity_mb, "MiB", `host-mem-${h.name}`)],
      ["Tenants", h => (h.partitions || []).map(p => p.tenant).join(", ")]], hosts, { id: "hosts" }),
    barChart(hosts.map(h => ({ label: h.name, v: u(h).vcpus_used, max: u(h).cpu_capacity })), "vCPUs used of capacity"),
    barChart(hosts.map(h => ({ label: h.name, v: u(h).memory_used_mb, max: u(h).memory_capacity_mb })), "memory used of capacity", "mem"),
    el("h2", { text: "Use over time" }), el("div", { class: "row" }, "Period: ", pick), hist);
  await loadHist();
}
