// The one wrapper of the /v1 API: the session cookie goes by itself (same origin), the CSRF
// token is added to every request that changes something, errors carry the API's message.
let csrf = "";
let idleMs = 0;
let idleTimer = 0;
let expired = () => {};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The session's CSRF token and idle time (the login answer, or GET /v1/session's).
export function setSession(s) {
  csrf = s ? s.csrf || "" : "";
  idleMs = s && s.idle_sec ? s.idle_sec * 1000 : 0;
  rearm();
}

// f(message) runs when the server says the session is gone (401 outside the login).
export function onExpired(f) {
  expired = f;
}

// Once the session has been idle past its time, ask the server: it answers 401 then, and the
// page goes back to the login without waiting for a click. That one look never arms another
// (were the session still alive, looking again and again would keep it alive for ever).
function rearm() {
  clearTimeout(idleTimer);
  if (idleMs)
    idleTimer = setTimeout(() => api("GET", "session", undefined, false).catch(() => {}), idleMs + 1000);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}

export function seg(name) {
  return encodeURIComponent(String(name));
}

// The API's URL of path: v1/path relative to the page, which is at the portal's root, so
// that the portal works behind a reverse proxy's base path (https://host/desk/ calls
// https://host/desk/v1/...).
export function apiUrl(path) {
  return new URL("v1/" + path, document.baseURI).href;
}

// method /v1/path with body (JSON), its answer's JSON; an ApiError with the API's message.
export async function api(method, path, body, used = true) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  const r = await fetch(apiUrl(path), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const text = await r.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!r.ok) {
    const msg = data && data.error && data.error.message ? data.error.message : `${r.status} ${r.statusText}`;
    if (r.status === 401 && path !== "login") {
      setSession(null);
      expired(msg);
    }
    throw new ApiError(r.status, msg);
  }
  if (used) rearm();
  return data;
}
