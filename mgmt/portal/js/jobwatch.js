// A job's progress, live: GET /v1/jobs/ID every second until it has ended.
import { api } from "./api.js";

export function watchJob(id, shown, done) {
  let timer = 0;
  let stopped = false;
  const tick = async () => {
    try {
      const j = await api("GET", `jobs/${id}`);
      const tasks = (j.tasks || []).map(t => ` ${t.name}: ${t.state || t.result || ""}`).join(",");
      shown(`job ${j.id} ${j.kind}: ${j.state}${j.error ? " (" + j.error + ")" : ""}${tasks}`, j);
      if (j.state === "succeeded" || j.state === "failed") {
        done(j);
        return;
      }
    } catch (e) {
      shown(`job ${id}: ${e.message}`, null);
      if (e.status === 401) return;
    }
    if (!stopped) timer = setTimeout(tick, 1000);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
