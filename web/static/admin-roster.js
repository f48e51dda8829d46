// The hotline roster (shifts by kind of day) and the policy and calendar, edited as a whole and put
// back in one request; the server's messages are shown by the shift or field they name.
"use strict";
const DAY_KINDS = ["workday", "weekend", "holiday"];
let shiftSeq = 1000;
function shiftRow(kind, s, i, responders) {
  const k = typeof i === "number" ? i : shiftSeq++;
  const p = `${kind}.${k}`;
  return `<div class="row" data-shift="${kind}" data-key="shift-${p}">
    ${inputField(`${p}.from`, t("shift_from"), s.from, { id: `shift-${kind}-${k}-from`, type: "time" })}
    ${inputField(`${p}.to`, t("shift_to"), s.to, { id: `shift-${kind}-${k}-to` })}
    ${inputField(`${p}.responder`, t("responder"), s.responder, { id: `shift-${kind}-${k}-responder`, options: responders })}
    <button type="button" data-action="removeRow">${t("remove")}</button>${errorSlot(p)}</div>`;
}
async function loadRoster() {
  const [roster, people] = await Promise.all([load("/api/v1/roster"), load("/api/v1/responders")]);
  admin.responders = people.map((p) => [p.id, `${p.name} (${p.id})`]);
  const box = document.getElementById("roster-editor");
  box.innerHTML = `<form class="admin-form" id="roster-form"><h2>${t("tab_roster")}</h2>
    ${DAY_KINDS.map((kind) => `<div class="rows" id="shifts-${kind}"><h3>${t("day_" + kind)}</h3>
      ${(roster[kind] || []).map((s, i) => shiftRow(kind, s, i, admin.responders)).join("")}
      <div><button type="button" data-action="addShift" data-kind="${kind}" id="shift-add-${kind}">${t("add_shift")}</button></div>${errorSlot(kind)}</div>`).join("")}
    ${errorSlot("")}<div><button type="submit" class="primary" id="roster-save">${t("save")}</button>
    <small class="saved" id="roster-saved" hidden></small></div></form>`;
  box.querySelector("form").addEventListener("submit", saveRoster);
}
ACTIONS.addShift = (el) => {
  el.parentElement.insertAdjacentHTML("beforebegin", shiftRow(el.dataset.kind, { from: "08:00", to: "20:00" }, null, admin.responders));
};
async function saveRoster(ev) {
  ev.preventDefault();
  const form = ev.currentTarget, body = {};
  for (const kind of DAY_KINDS) {
    body[kind] = [...form.querySelectorAll(`[data-shift="${kind}"]`)].map((row) => {
      const p = row.dataset.key.slice("shift-".length);
      return { from: valueOf(row, `${p}.from`), to: valueOf(row, `${p}.to`), responder: valueOf(row, `${p}.responder`) };
    });
  }
  const r = await send("/api/v1/roster", "PUT", body);
  if (!r.ok) { showErrors(form, fieldErrors(r.data)); return; }
  clearErrors(form);
  flash(document.getElementById("roster-saved"), t("saved"));
}

// the policy and the calendar: their own small documents, edited as text in the import file's form
const DOCUMENTS = { policy: "/api/v1/policy", calendar: "/api/v1/calendar" };
async function loadDocument(name) {
  const value = await load(DOCUMENTS[name]);
  const box = document.getElementById("json-editor");
  box.innerHTML = `<form class="admin-form" id="doc-form" data-doc="${name}"><h2>${t("tab_" + name)}</h2>
    <p class="muted">${t("doc_hint_" + name)}</p>
    ${inputField("document", "JSON", JSON.stringify(value, null, 2), { id: "doc-text", type: "textarea", wide: true })}
    ${errorSlot("")}<div><button type="submit" class="primary" id="doc-save">${t("save")}</button>
    <small class="saved" id="doc-saved" hidden></small></div></form>`;
  box.querySelector("textarea").rows = 16;
  box.querySelector("form").addEventListener("submit", saveDocument);
}
async function saveDocument(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  let body;
  try { body = JSON.parse(form.querySelector("textarea").value); } catch (e) {
    showErrors(form, { document: [t("bad_json") + " " + e.message] });
    return;
  }
  const r = await send(DOCUMENTS[form.dataset.doc], "PUT", body);
  if (!r.ok) {
    const errors = fieldErrors(r.data), flat = {};
    flat.document = Object.entries(errors).map(([f, m]) => (f ? f + ": " : "") + m.join("; "));
    showErrors(form, flat);
    return;
  }
  clearErrors(form);
  flash(document.getElementById("doc-saved"), t("saved"));
}
