// A tenant administrator's users: add, change password or name, delete, and the desktops
// each is assigned to (assignments are made on the Desktops view).
import { api, seg } from "./api.js";
import { clear, el, guard, showInfo, table } from "./dom.js";

export async function render(root, session) {
  const out = el("div");
  const name = el("input", { id: "new-user-name", placeholder: "name", required: true });
  const display = el("input", { id: "new-user-display", placeholder: "display name" });
  const password = el("input", { id: "new-user-password", type: "password", placeholder: "password (12+)", autocomplete: "new-password", required: true });
  const ref = u => seg(u.id !== undefined ? u.id : u.name);

  const change = u => {
    const pw = el("input", { type: "password", placeholder: "new password", autocomplete: "new-password", required: true, size: 12 });
    return el("form", { class: "row", onsubmit: guard(async () => {
      await api("PUT", `users/${ref(u)}`, { password: pw.value });
      pw.value = "";
      showInfo(`${u.name}: password changed`);
    }) }, pw, el("button", { type: "submit", text: "Set" }));
  };
  const load = async () => {
    const [us, ds] = await Promise.all([api("GET", "users"), api("GET", "desktops")]);
    const of = u => ds.filter(d => (d.users || []).includes(u.name)).map(d => d.name).join(", ");
    clear(out, table([["Name", u => u.name], ["Display name", u => u.display_name], ["Desktops", of],
      ["Password", change],
      ["", u => el("button", { type: "button", text: "delete", onclick: guard(async () => {
        await api("DELETE", `users/${ref(u)}`);
        await load();
      }) })]], us, { id: "users" }));
  };
  clear(root, el("form", { id: "create-user", onsubmit: guard(async () => {
    await api("POST", "users", { name: name.value, tenant: session.tenant, password: password.value, display_name: display.value });
    password.value = "";
    name.value = "";
    display.value = "";
    await load();
  }) }, name, display, password, el("button", { type: "submit", text: "Add user" })), out);
  await load();
}
