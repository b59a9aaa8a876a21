// The portal's start: the session (or the login), then the views of the session's role.
import { api, onExpired, setSession } from "./api.js";
import { clear, el, guard, hideStatus, showError, showInfo } from "./dom.js";
import { loginView } from "./login.js";
import * as desktops from "./desktops.js";
import * as quotas from "./quotas.js";
import * as usage from "./usage.js";
import * as users from "./users.js";
import * as audit from "./audit.js";
import * as mine from "./mine.js";
import * as infra from "./infra.js";
import * as tenants from "./tenants.js";
import * as jobs from "./jobs.js";
import * as chargeback from "./chargeback.js";

// Each role's views: [hash, title, module with render(main, session) -> optional stop()].
const VIEWS = {
  tenant: [["desktops", "Desktops", desktops], ["quotas", "Quotas", quotas], ["usage", "Usage and cost", usage],
    ["users", "Users", users], ["audit", "Audit", audit]],
  user: [["mine", "My desktops", mine]],
  provider: [["infra", "Sites and hosts", infra], ["tenants", "Tenants and quotas", tenants], ["jobs", "Jobs", jobs],
    ["chargeback", "Chargeback", chargeback], ["audit", "Audit", audit]],
};

const main = document.getElementById("main");
let session = null;
let stop = null;

function halt() {
  if (stop) stop();
  stop = null;
}

function toLogin(message) {
  halt();
  session = null;
  clear(document.getElementById("nav"));
  document.getElementById("who").textContent = "";
  document.getElementById("logout").hidden = true;
  clear(main, loginView(started));
  if (message) showError(message);
}

function started(s) {
  session = s;
  setSession(s);
  hideStatus();
  const who = s.role === "user" ? `${s.user} (${s.tenant})` : s.role === "tenant" ? `${s.principal} (${s.tenant} admin)` : `${s.principal} (provider)`;
  document.getElementById("who").textContent = who;
  document.getElementById("logout").hidden = false;
  const views = VIEWS[s.role] || [];
  clear(document.getElementById("nav"), views.map(([id, title]) => el("a", { href: `#${id}`, id: `nav-${id}`, text: title })));
  if (!views.some(([id]) => location.hash === `#${id}`)) location.hash = views.length ? `#${views[0][0]}` : "";
  route();
}

async function route() {
  if (!session) return;
  const views = VIEWS[session.role] || [];
  const v = views.find(([id]) => location.hash === `#${id}`) || views[0];
  if (!v) return;
  halt();
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.id === `nav-${v[0]}`);
  const section = el("section", { id: `view-${v[0]}` });
  clear(main, el("h1", { text: v[1] }), section);
  try {
    stop = (await v[2].render(section, session)) || null;
  } catch (e) {
    showError(e);
  }
}

// A session that ends while the page shows it: back to the login, saying why.
onExpired(msg => {
  if (session) toLogin(`Your session has ended (${msg}): log in again.`);
});
window.addEventListener("hashchange", () => {
  hideStatus();
  route();
});
document.getElementById("logout").addEventListener("click", guard(async () => {
  await api("POST", "logout");
  setSession(null);
  toLogin();
  showInfo("Logged out.");
}));

api("GET", "session").then(started, () => toLogin());
