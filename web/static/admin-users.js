// The users tab: accounts with their display name, role and state; add, change, disable, reset the
// password, and API tokens (shown once) with revoke.
"use strict";
const ROLE_OPTIONS = () => ["viewer", "operator", "admin"].map((r) => [r, t("role_" + r)]);

async function loadUsers() {
  const [users, tokens] = await Promise.all([load("/api/v1/users"), load("/api/v1/tokens")]);
  patch(document.getElementById("user-list"), `<table class="admin-table"><thead><tr>
    <th>${t("name")}</th><th>${t("display_name")}</th><th>${t("role")}</th><th>${t("state")}</th><th>${t("password")}</th><th></th></tr></thead><tbody>
    ${users.map(userRow).join("")}</tbody></table>`);
  patch(document.getElementById("token-list"), `<table class="admin-table"><thead><tr>
    <th>#</th><th>${t("name")}</th><th>${t("label")}</th><th>${t("created")}</th><th>${t("state")}</th><th></th></tr></thead><tbody>
    ${tokens.map((k) => `<tr data-key="token-${k.id}"><td>${k.id}</td><td>${esc(k.user)}</td><td>${esc(k.label)}</td>
      <td>${when(k.created_at)}</td><td>${k.revoked_at ? t("revoked") + " " + when(k.revoked_at) : t("live_token")}</td>
      <td>${k.revoked_at ? "" : `<button type="button" data-action="revokeToken" data-id="${k.id}" id="revoke-${k.id}">${t("revoke")}</button>`}</td></tr>`).join("")}
    </tbody></table>`);
}
function userRow(u) {
  const n = esc(u.name), self = admin.me && admin.me.name === u.name;
  return `<tr data-key="user-${n}" data-user="${n}">
    <td>${n}${self ? ` <span class="muted">(${t("you")})</span>` : ""}</td>
    <td><input id="dn-${n}" value="${esc(u.display_name)}" aria-label="${t("display_name")}"></td>
    <td><select id="role-${n}" aria-label="${t("role")}"${self ? " disabled" : ""}>${ROLE_OPTIONS().map(([v, l]) =>
      `<option value="${v}"${v === u.role ? " selected" : ""}>${esc(l)}</option>`).join("")}</select></td>
    <td>${u.active ? t("active") : `<span class="muted">${t("disabled")}</span>`}</td>
    <td><input id="pw-${n}" type="password" autocomplete="new-password" data-i18n-placeholder="new_password" placeholder="${t("new_password")}"></td>
    <td class="actions">
      <button type="button" data-action="saveUser" data-user="${n}" id="save-${n}">${t("save")}</button>
      <button type="button" data-action="resetPassword" data-user="${n}" id="reset-${n}">${t("reset_password")}</button>
      <button type="button" data-action="newToken" data-user="${n}" id="token-${n}"${u.active ? "" : " disabled"}>${t("new_token")}</button>
      ${self ? "" : `<button type="button" data-action="${u.active ? "disableUser" : "enableUser"}" data-user="${n}" id="active-${n}">${t(u.active ? "disable" : "enable")}</button>`}
      ${note(u.name)}</td></tr>`;
}
// the last answer about an account, kept across redraws of the list
admin.notes = {};
function note(name) {
  const n = admin.notes[name] || {}, key = esc(name);
  return `<small class="field-error" id="err-${key}"${n.error ? "" : " hidden"}>${esc(n.error || "")}</small>` +
    `<small class="saved" id="ok-${key}"${n.ok ? "" : " hidden"}>${esc(n.ok || "")}</small>`;
}
function rowMessage(name, r, okText) {
  admin.notes = { [name]: r.ok ? { ok: okText } : { error: Object.values(fieldErrors(r.data)).flat().map(localize).join("; ") } };
  const row = document.querySelector(`[data-user="${CSS.escape(name)}"] td:last-child`);
  if (row) { row.querySelectorAll("small").forEach((el) => el.remove()); row.insertAdjacentHTML("beforeend", note(name)); }
  return r.ok;
}
document.getElementById("user-add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const body = { name: valueOf(form, "name"), display_name: valueOf(form, "display_name"), role: valueOf(form, "role"),
    password: form.querySelector("[name=password]").value };
  const r = await send("/api/v1/users", "POST", body);
  if (!r.ok) {
    const errors = fieldErrors(r.data);
    const text = (errors[""] || []).join(" ");  // the Accounts' message: put it by the field it names
    const field = /password/.test(text) ? "password" : /role/.test(text) ? "role" : /display name/.test(text) ? "display_name" : /name/.test(text) ? "name" : "";
    if (errors[""] && field) { errors[field] = errors[""]; delete errors[""]; }
    showErrors(form, errors);
    return;
  }
  clearErrors(form);
  form.reset();
  await loadUsers();
});
ACTIONS.saveUser = async (el) => {
  const name = el.dataset.user, body = { display_name: document.getElementById("dn-" + name).value };
  const role = document.getElementById("role-" + name);
  if (!role.disabled) body.role = role.value;
  if (rowMessage(name, await send(`/api/v1/users/${encodeURIComponent(name)}`, "PUT", body), t("saved"))) await loadUsers();
};
ACTIONS.resetPassword = async (el) => {
  const name = el.dataset.user, input = document.getElementById("pw-" + name);
  const r = await send(`/api/v1/users/${encodeURIComponent(name)}/password`, "POST", { password: input.value });
  if (rowMessage(name, r, t("password_reset"))) input.value = "";
};
ACTIONS.newToken = async (el) => {
  const name = el.dataset.user, label = prompt(t("token_label"), "") ;
  if (label === null) return;
  const r = await send(`/api/v1/users/${encodeURIComponent(name)}/tokens`, "POST", { label });
  if (!rowMessage(name, r, t("token_made"))) return;
  const box = document.getElementById("token-shown");
  box.textContent = `${t("token_once")} ${name}: ${r.data.token}`;
  box.hidden = false;
  await loadUsers();
};
ACTIONS.revokeToken = async (el) => {
  if (!confirm(t("confirm_revoke"))) return;
  const r = await send(`/api/v1/tokens/${el.dataset.id}/revoke`, "POST");
  if (!r.ok) throw new Error(r.data.detail);
  await loadUsers();
};
async function setActive(el, verb) {
  const name = el.dataset.user;
  if (verb === "disable" && !confirm(t("confirm_disable").replace("{name}", name))) return;
  if (rowMessage(name, await send(`/api/v1/users/${encodeURIComponent(name)}/${verb}`, "POST"), t("saved"))) await loadUsers();
}
ACTIONS.disableUser = (el) => setActive(el, "disable");
ACTIONS.enableUser = (el) => setActive(el, "enable");
