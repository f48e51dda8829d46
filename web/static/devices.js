// The devices tab: the open maintenance items (close one with a note) and every device by its
// resident's name, each with one word that does not mislead (never seen, online, silent since,
// offline since, low battery), as web/api/supervision.py decides it.
"use strict";
const CONDITION_CLASS = { online: "good", never_seen: "unknown", silent: "bad", offline: "bad", low_battery: "warn" };
function deviceCondition(d) {
  const word = d.condition || "online";
  const since = d.condition_since ? " " + t("since_t").replace("{t}", when(d.condition_since)) : "";
  // a commodity button (Zigbee, Shelly, Tasmota) has no light or sound: whoever calls back must tell the resident
  const mute = d.can_show_feedback === false ? ` <span class="mute">${t("no_feedback")}</span>` : "";
  const item = d.maintenance_open && word !== "low_battery" ? ` <span class="warn">${t("low_battery")}</span>` : "";
  return `<span class="cond cond-${esc(word)} ${CONDITION_CLASS[word] || ""}">${t("cond_" + word)}${since}</span>${item}${mute}`;
}
function maintenanceRow(m) {
  const close = canAct() ? `<td><div class="actions"><input class="mnote" id="mnote-${m.id}" data-id="${m.id}" placeholder="${t("note")}" aria-label="${t("note")}" maxlength="2000">
    <button class="resolve" data-action="close-item" data-id="${m.id}">${t("close_item")}</button></div></td>` : "";
  return `<tr data-item="${m.id}" data-key="item-${m.id}">
    <td>${m.resident_id ? `<a href="#" data-action="card" data-resident="${esc(m.resident_id)}">${esc(m.resident_name || m.resident_id)}</a>` : "–"}</td>
    <td>${esc(m.device_id)}</td>
    <td>${esc(m.reason === "battery_low" ? t("low_battery") : m.reason)}</td><td class="battery" data-label="${t("battery")}">${m.battery == null ? "–" : esc(m.battery) + "%"}</td>
    <td data-label="${t("since")}">${when(m.opened_at)}</td>${close}</tr>`;
}
function byResident(a, b) {  // devices nobody wears last
  if (!a.resident_name !== !b.resident_name) return a.resident_name ? -1 : 1;
  return (a.resident_name || "").localeCompare(b.resident_name || "", "zh-CN") || a.id.localeCompare(b.id);
}
function deviceRow(d) {
  return `<tr data-device="${esc(d.id)}" data-key="device-${esc(d.id)}" data-condition="${esc(d.condition)}">
    <td>${d.resident_id ? `<a href="#" data-action="card" data-resident="${esc(d.resident_id)}">${esc(d.resident_name || d.resident_id)}</a>` : "–"}</td>
    <td><span class="devid">${esc(d.id)}</span><br><small>${t(d.kind)}</small></td><td>${deviceCondition(d)}</td>
    <td data-label="${t("battery")}">${d.battery == null ? "–" : esc(d.battery) + "%"}</td><td data-label="${t("last_seen")}">${when(d.last_seen_at)}</td></tr>`;
}
async function loadMaintenance() {
  const items = await api("/api/v1/supervision/maintenance?state=open");
  patch(document.getElementById("maintenance-list"), items.length ? `<table class="devices maintenance"><thead><tr>
    <th>${t("resident")}</th><th>${t("device_col")}</th><th></th><th>${t("battery")}</th><th>${t("since")}</th>${canAct() ? "<th></th>" : ""}</tr></thead><tbody>`
    + items.map(maintenanceRow).join("") + "</tbody></table>" : `<p class="empty">${t("none_maintenance")}</p>`);
}
async function loadDevices() {
  await loadMaintenance();
  const list = (await api("/api/v1/supervision/devices")).sort(byResident);
  patch(document.getElementById("device-list"), `<table class="devices"><thead><tr><th>${t("resident")}</th><th>${t("device_col")}</th>
    <th>${t("state")}</th><th>${t("battery")}</th><th>${t("last_seen")}</th></tr></thead><tbody>` + list.map(deviceRow).join("") + "</tbody></table>");
}
ACTIONS["close-item"] = async (el) => {
  el.disabled = true;
  const id = el.dataset.id;
  const note = document.getElementById(`mnote-${id}`).value;
  await api(`/api/v1/supervision/maintenance/${id}/close`, { method: "POST", body: JSON.stringify({ note }) });
  await loadDevices();
};
