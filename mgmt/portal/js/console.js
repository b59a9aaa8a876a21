// A desktop's console (console.html?desktop=ID[&type=serial]): a ticket from
// POST /v1/desktops/ID/console (the session's cookie and CSRF header), then a WebSocket on
// /v1/console/TICKET of this same host: noVNC's RFB client on it (Debian's novnc, served by
// tessmgrd at novnc/ beside the portal), or a text terminal for the serial console. The state is in
// #console-state (its text and data-state: connecting, connected, closed) with the reason in
// #console-reason, and the framebuffer's size in #console-size (data-width, data-height).
import { api, apiUrl, setSession } from "./api.js";
import { clear, el } from "./dom.js";
import { serialTerminal } from "./serial.js";

// noVNC beside the portal (novnc/ at its root), relative to this module under a proxy's base too.
const RFB_MODULE = new URL("../novnc/core/rfb.js", import.meta.url).href;

const params = new URLSearchParams(location.search);
const desktop = params.get("desktop") || "";
const type = params.get("type") === "serial" ? "serial" : "vnc";
const main = document.getElementById("console-main");
const stateEl = document.getElementById("console-state");
const reasonEl = document.getElementById("console-reason");
const sizeEl = document.getElementById("console-size");
const cad = document.getElementById("console-cad");

function show(state, reason = "") {
  stateEl.textContent = state;
  stateEl.dataset.state = state;
  stateEl.className = `console-${state}`;
  reasonEl.textContent = reason;
  if (state !== "connected") cad.disabled = true;
}

function showSize(w, h) {
  sizeEl.textContent = w && h ? `${w}x${h}` : "";
  sizeEl.dataset.width = String(w || 0);
  sizeEl.dataset.height = String(h || 0);
}

// Why the socket closed, from its close event: the server's reason (the desktop stopped, the
// session ended, idle), else its code.
function closeReason(ev) {
  if (ev.reason) return ev.reason;
  return ev.code === 1006 ? "the connection failed or was lost" : `closed (code ${ev.code})`;
}

async function openVnc(url) {
  let RFB;
  try {
    RFB = (await import(RFB_MODULE)).default;
  } catch (e) {
    show("closed", `noVNC could not be loaded (tessmgrd's http.novnc_dir): ${e.message}`);
    return;
  }
  const screen = el("div", { id: "console-screen", class: "console-screen" });
  clear(main, screen);
  // Our own socket (noVNC takes a WebSocket as its channel), so its close reason can be shown:
  // noVNC's disconnect event only says whether it was clean. Listened to before noVNC's.
  const ws = new WebSocket(url, ["binary"]);
  let closed = "";
  let failure = "";
  ws.addEventListener("close", ev => { closed = closeReason(ev); });
  const rfb = new RFB(screen, ws);
  rfb.scaleViewport = true;
  rfb.addEventListener("connect", () => {
    const canvas = screen.querySelector("canvas");
    show("connected");
    cad.disabled = false;
    showSize(canvas.width, canvas.height);
    // A mode change resizes the framebuffer (the canvas' width and height attributes).
    new MutationObserver(() => showSize(canvas.width, canvas.height))
      .observe(canvas, { attributes: true, attributeFilter: ["width", "height"] });
    rfb.focus();
  });
  rfb.addEventListener("securityfailure", ev => { failure = `security failure: ${ev.detail.reason || ev.detail.status}`; });
  rfb.addEventListener("credentialsrequired", () => {
    failure = "the console asks for credentials, which the portal does not have";
    rfb.disconnect();
  });
  rfb.addEventListener("desktopname", ev => { document.title = `${ev.detail.name} - Tessera console`; });
  rfb.addEventListener("disconnect", ev => {
    show("closed", failure || closed || (ev.detail.clean ? "closed" : "the connection was lost"));
  });
  cad.hidden = false;
  cad.addEventListener("click", () => {
    rfb.sendCtrlAltDel();
    rfb.focus();
  });
  window.addEventListener("pagehide", () => rfb.disconnect());
}

function openSerial(url) {
  const ws = new WebSocket(url, ["binary"]);
  ws.binaryType = "arraybuffer";
  const term = serialTerminal(bytes => {
    if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
  });
  clear(main, term.element);
  ws.addEventListener("open", () => {
    show("connected");
    term.element.focus();
  });
  ws.addEventListener("message", ev => term.write(ev.data));
  ws.addEventListener("close", ev => show("closed", closeReason(ev)));
  window.addEventListener("pagehide", () => ws.close(1000, "page closed"));
}

async function start() {
  if (!/^[0-9]+$/.test(desktop)) {
    show("closed", "no desktop named: open the console from the portal's desktop list");
    return;
  }
  try {
    setSession(await api("GET", "session"));
  } catch (e) {
    show("closed", `log in to the portal first (${e.message})`);
    clear(main, el("a", { href: "./", text: "Log in" }));
    return;
  }
  try {
    const d = await api("GET", `desktops/${desktop}`);
    document.getElementById("console-title").textContent = `${type === "serial" ? "Serial console" : "Console"} of ${d.name}`;
    document.title = `${d.name} - Tessera console`;
    const t = await api("POST", `desktops/${desktop}/console`, { type });
    show("connecting");
    // The ticket's path is the API's (/v1/console/T): taken relative to the page, as api() does.
    const url = new URL(apiUrl(t.path.replace(/^\/v1\//, "")));
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (type === "serial") openSerial(url.href);
    else await openVnc(url.href);
  } catch (e) {
    show("closed", e.message);
  }
}

showSize(0, 0);
start();
