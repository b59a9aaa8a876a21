// The login: a provider's or tenant administrator's token, or a user's tenant, name and password.
import { api } from "./api.js";
import { el, guard } from "./dom.js";

export function loginView(started) {
  const token = el("input", { id: "login-token", type: "password", autocomplete: "off", placeholder: "bearer token", required: true });
  const tenant = el("input", { id: "login-tenant", autocomplete: "organization", placeholder: "tenant", required: true });
  const user = el("input", { id: "login-user", autocomplete: "username", placeholder: "user", required: true });
  const password = el("input", { id: "login-password", type: "password", autocomplete: "current-password", placeholder: "password", required: true });
  // The body is read at the submit; the password field is emptied whatever the answer.
  const submit = body => guard(async () => {
    const b = body();
    password.value = "";
    token.value = "";
    started(await api("POST", "login", b));
  });
  return el("div", { id: "login" },
    el("form", { class: "login", id: "login-user-form", onsubmit: submit(() => ({ tenant: tenant.value, user: user.value, password: password.value })) },
      el("h2", { text: "Log in as a user" }), tenant, user, password,
      el("button", { id: "login-user-submit", type: "submit", text: "Log in" })),
    el("form", { class: "login", id: "login-token-form", onsubmit: submit(() => ({ token: token.value })) },
      el("h2", { text: "Or with an administrator's token" }), token,
      el("button", { id: "login-token-submit", type: "submit", text: "Log in with the token" })));
}
