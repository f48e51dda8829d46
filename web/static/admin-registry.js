// The registry editors for residents, devices and responders: a list, one form for adding or editing
// an entry, and deactivation after a confirmation. The server's checks answer; their messages are
// shown under the fields they name and the form keeps what was typed.
"use strict";
const LANGS = () => [["zh-CN", "中文"], ["en", "English"]];
const CARE_LEVELS = ["self_care", "partly_dependent", "dependent"];
const MOBILITY = ["walks", "walks_with_aid", "wheelchair", "bedridden"];
const HEALTH_FIELDS = ["conditions", "allergies", "medicines", "mobility", "hospital", "needs"];
const EDITORS = {
  residents: {
    title: (e) => `${e.name} (${e.id})`,
    columns: (e) => [e.building, e.phone || "–", e.address || ""],
    heads: () => [t("building_col"), t("phone"), t("address")],
    fields: (e, refs) => [
      inputField("id", t("entry_id"), e.id, { id: "res-id" }),
      inputField("name", t("name_person"), e.name, { id: "res-name" }),
      inputField("building", t("building_col"), e.building, { id: "res-building", options: refs.buildings }),
      inputField("address", t("address"), e.address, { id: "res-address", wide: true }),
      inputField("phone", t("phone"), e.phone, { id: "res-phone", type: "tel" }),
      inputField("language", t("language"), e.language || "zh-CN", { id: "res-language", options: LANGS() }),
      inputField("lives_alone", t("lives_alone"), e.lives_alone ?? true, { id: "res-alone", type: "checkbox" }),
      inputField("household", t("household"), e.household, { id: "res-household", options: [["", "–"], ["alone", t("household_alone")], ["empty_nest", t("household_empty_nest")]] }),
      inputField("checkin.deadline", t("checkin_deadline"), e.checkin && e.checkin.deadline, { id: "res-checkin", type: "time" }),
      inputField("visit_every_days", t("visit_every_days"), e.visit_every_days, { id: "res-visits", type: "number" }),
      inputField("id_number", t("id_number"), e.id_number, { id: "res-id-number" }),
      inputField("sex", t("sex"), e.sex, { id: "res-sex", options: [["", "–"], ["female", t("sex_female")], ["male", t("sex_male")]] }),
      inputField("birth_year", t("birth_year"), e.birth_year, { id: "res-birth-year", type: "number" }),
      inputField("care_level", t("care_level"), e.care_level, { id: "res-care", options: [["", "–"], ...CARE_LEVELS.map((k) => [k, t(`care_${k}`)])] }),
      inputField("mobility", t("mobility"), e.mobility, { id: "res-mobility", options: [["", "–"], ...MOBILITY.map((k) => [k, t(`mob_${k}`)])] }),
      inputField("hospital", t("f_hospital"), e.hospital, { id: "res-hospital" }),
      inputField("conditions", t("f_conditions"), e.conditions, { id: "res-conditions", wide: true }),
      inputField("allergies", t("f_allergies"), e.allergies, { id: "res-allergies", wide: true }),
      inputField("medicines", t("f_medicines"), e.medicines, { id: "res-medicines", type: "textarea", wide: true }),
      inputField("needs", t("f_needs"), e.needs, { id: "res-needs", wide: true }),
      inputField("medical_notes", t("f_medical"), e.medical_notes, { id: "res-medical", type: "textarea", wide: true }),
      inputField("consent.by", t("consent_by"), e.consent && e.consent.by, { id: "res-consent-by" }),
      inputField("consent.given", t("consent_given"), e.consent && e.consent.given, { id: "res-consent-given", type: "date" }),
      `<div class="rows" id="contact-rows"><h3>${t("contacts")}</h3>${(e.contacts || []).map(contactRow).join("")}
        <div><button type="button" data-action="addContact" id="contact-add">${t("add_contact")}</button></div>${errorSlot("contacts")}</div>`,
    ],
    collect: (form) => {
      const out = pick(form, ["id", "name", "building", "address", "phone", "language", "medical_notes", "visit_every_days",
        "sex", "birth_year", "care_level", "household", "id_number", ...HEALTH_FIELDS]);
      out.lives_alone = valueOf(form, "lives_alone");
      const consent = pick(form, ["consent.by", "consent.given"]);
      if (Object.keys(consent).length) out.consent = { by: consent["consent.by"], given: consent["consent.given"] };
      const deadline = valueOf(form, "checkin.deadline");
      if (deadline) out.checkin = { deadline };
      out.contacts = [...form.querySelectorAll("[data-contact]")].map((row) => {
        const k = row.dataset.contact, abroad = pick(row, [`contacts.${k}.country`, `contacts.${k}.timezone`]);
        return {
          name: valueOf(row, `contacts.${k}.name`), phone: valueOf(row, `contacts.${k}.phone`),
          notify: valueOf(row, `contacts.${k}.notify`), has_key: valueOf(row, `contacts.${k}.has_key`),
          language: valueOf(row, `contacts.${k}.language`),
          ...(abroad[`contacts.${k}.country`] ? { country: abroad[`contacts.${k}.country`] } : {}),
          ...(abroad[`contacts.${k}.timezone`] ? { timezone: abroad[`contacts.${k}.timezone`] } : {}),
        };
      });
      return out;
    },
  },
  devices: {
    title: (e) => e.id,
    columns: (e) => [e.resident || "–", t(e.kind || "pager"), e.adapter || "native"],
    heads: () => [t("resident"), t("kind"), t("adapter")],
    fields: (e, refs) => [
      inputField("id", t("entry_id"), e.id, { id: "dev-id" }),
      inputField("resident", t("resident"), e.resident, { id: "dev-resident", options: [["", "–"], ...refs.residents] }),
      inputField("kind", t("kind"), e.kind || "pager", { id: "dev-kind", options: ["pager", "pull_cord", "fall_detector"].map((k) => [k, t(k)]) }),
      inputField("adapter", t("adapter"), e.adapter || "native", { id: "dev-adapter", options: ["native", "zigbee2mqtt", "shelly", "tasmota"].map((k) => [k, k]) }),
      inputField("source", t("source"), e.source, { id: "dev-source" }),
      inputField("heartbeat", t("heartbeat"), e.heartbeat, { id: "dev-heartbeat" }),
    ],
    collect: (form) => pick(form, ["id", "resident", "kind", "adapter", "source", "heartbeat"]),
  },
  responders: {
    title: (e) => `${e.name} (${e.id})`,
    columns: (e) => [e.phone, e.language, (e.channels || []).join(" → ") || t("rsp_channels_tier")],
    heads: () => [t("phone"), t("language"), t("rsp_channels_head")],
    fields: (e) => [
      inputField("id", t("entry_id"), e.id, { id: "rsp-id" }),
      inputField("name", t("name_person"), e.name, { id: "rsp-name" }),
      inputField("phone", t("phone"), e.phone, { id: "rsp-phone", type: "tel" }),
      inputField("language", t("language"), e.language || "zh-CN", { id: "rsp-language", options: LANGS() }),
      inputField("channels", t("rsp_channels"), (e.channels || []).join(", "), { id: "rsp-channels", wide: true }),
    ],
    collect: (form) => {  // channels typed as "aliyun_sms, voice": a list, or none (each tier's own)
      const out = pick(form, ["id", "name", "phone", "language"]);
      const channels = (valueOf(form, "channels") || "").split(/[,，\s]+/).filter(Boolean);
      if (channels.length) out.channels = channels;
      return out;
    },
  },
};
function pick(form, names) {  // empty optional text is left out: the server's default applies
  const out = {};
  for (const n of names) { const v = valueOf(form, n); if (v !== "" && v !== undefined) out[n] = v; }
  return out;
}
let contactSeq = 1000;
function contactRow(c, i) {
  const k = typeof i === "number" ? i : contactSeq++;
  return `<div class="row" data-contact="${k}" data-key="contact-${k}">
    ${inputField(`contacts.${k}.name`, t("name_person"), c.name, { id: `contact-${k}-name` })}
    ${inputField(`contacts.${k}.phone`, t("phone"), c.phone, { id: `contact-${k}-phone`, type: "tel" })}
    ${inputField(`contacts.${k}.notify`, t("notify_contact"), c.notify, { id: `contact-${k}-notify`, type: "checkbox" })}
    ${inputField(`contacts.${k}.has_key`, t("has_key_contact"), c.has_key, { id: `contact-${k}-has_key`, type: "checkbox" })}
    ${inputField(`contacts.${k}.country`, t("contact_country"), c.country, { id: `contact-${k}-country` })}
    ${inputField(`contacts.${k}.timezone`, t("contact_timezone"), c.timezone, { id: `contact-${k}-timezone` })}
    ${inputField(`contacts.${k}.language`, t("contact_language"), c.language || "zh", { id: `contact-${k}-language`, options: [["zh", "中文"], ["en", "English"]] })}
    <button type="button" data-action="removeRow">${t("remove")}</button>${errorSlot(`contacts.${k}`)}</div>`;
}
ACTIONS.addContact = (el) => { el.parentElement.insertAdjacentHTML("beforebegin", contactRow({})); };
ACTIONS.removeRow = (el) => { el.closest(".row").remove(); };

async function refs() {
  const [buildings, residents] = await Promise.all([load("/api/v1/buildings"), load("/api/v1/residents")]);
  return { buildings: buildings.map((b) => [b.id, `${b.name} (${b.id})`]), residents: residents.map((r) => [r.id, `${r.name} (${r.id})`]) };
}
async function loadSection(section) {
  const ed = EDITORS[section], entries = await load(`/api/v1/${section}`);
  admin.entries = entries;
  patch(document.getElementById("entry-list"), `<table class="admin-table"><thead><tr><th>${t("name_person")}</th>
    ${ed.heads().map((h) => `<th>${esc(h)}</th>`).join("")}<th></th></tr></thead><tbody>
    ${entries.map((e) => `<tr data-key="${section}-${esc(e.id)}"><td>${esc(ed.title(e))}</td>${ed.columns(e).map((c) => `<td>${esc(c)}</td>`).join("")}
      <td class="actions"><button type="button" data-action="editEntry" data-id="${esc(e.id)}" id="edit-${esc(e.id)}">${t("edit")}</button>
      <button type="button" data-action="deactivateEntry" data-id="${esc(e.id)}" id="deactivate-${esc(e.id)}">${t("deactivate")}</button></td></tr>`).join("")}
    </tbody></table>`);
}
async function openEditor(entry) {
  const section = admin.tab, ed = EDITORS[section], isNew = !entry;
  const box = document.getElementById("entry-editor");
  box.innerHTML = `<form class="admin-form" id="entry-form" data-section="${section}" data-id="${esc(entry ? entry.id : "")}">
    <h2>${isNew ? t("add") : t("edit") + " " + esc(ed.title(entry))}</h2>
    ${ed.fields(entry || {}, await refs()).join("")}
    ${errorSlot("")}
    <div><button type="submit" class="primary" id="entry-save">${t("save")}</button>
    <button type="button" data-action="closeEditor">${t("cancel")}</button></div></form>
    ${section === "residents" && !isNew ? `<section id="record-history" class="admin-form"></section>` : ""}`;
  if (!isNew) box.querySelector("[name=id]").readOnly = true;
  box.querySelector("form").addEventListener("submit", saveEntry);
  box.scrollIntoView({ block: "start" });
  if (section === "residents" && !isNew) await showHistory(entry.id);
}
async function saveEntry(ev) {
  ev.preventDefault();
  const form = ev.currentTarget, section = form.dataset.section, id = form.dataset.id;
  const body = EDITORS[section].collect(form);
  const r = id ? await send(`/api/v1/${section}/${encodeURIComponent(id)}`, "PUT", body) : await send(`/api/v1/${section}`, "POST", body);
  if (!r.ok) { showErrors(form, byRow(form, fieldErrors(r.data))); return; }
  document.getElementById("entry-editor").innerHTML = `<p class="saved" id="entry-saved">${t("saved")}</p>`;
  await loadSection(section);
  if (section === "residents" && id) {  // the change just made heads the record's history
    document.getElementById("entry-editor").insertAdjacentHTML("beforeend", `<section id="record-history" class="admin-form"></section>`);
    await showHistory(id);
  }
}
// the server counts contacts by position; a row added or removed here has its own key: map one to the other
function byRow(form, errors) {
  const keys = [...form.querySelectorAll("[data-contact]")].map((row) => row.dataset.contact), out = {};
  for (const [path, messages] of Object.entries(errors)) {
    out[path.replace(/^contacts\.(\d+)/, (whole, i) => (keys[i] !== undefined ? `contacts.${keys[i]}` : whole))] = messages;
  }
  return out;
}
ACTIONS.newEntry = () => openEditor(null);
// a resident's form loads their whole record (the list has no health fields, no ID number): that opening is audited
ACTIONS.editEntry = async (el) => openEditor(admin.tab === "residents"
  ? await load(`/api/v1/residents/${encodeURIComponent(el.dataset.id)}`) : admin.entries.find((e) => e.id === el.dataset.id));
ACTIONS.closeEditor = () => { document.getElementById("entry-editor").innerHTML = ""; };
ACTIONS.deactivateEntry = async (el) => {
  if (!confirm(t("confirm_deactivate").replace("{id}", el.dataset.id))) return;
  const r = await send(`/api/v1/${admin.tab}/${encodeURIComponent(el.dataset.id)}`, "DELETE");
  if (!r.ok) throw new Error((r.data.problems || [r.data.detail]).join("\n"));
  await loadSection(admin.tab);
};
