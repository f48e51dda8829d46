// Under a resident's form: every change to their record, newest first, who made it and which fields
// went from what to what (GET /api/v1/residents/{id}/history). An ID number comes masked (***1234).
"use strict";
const HISTORY_LABELS = {
  name: "name_person", building_id: "building_col", phone: "phone", address: "address", language: "language",
  lives_alone: "lives_alone", household: "household", medical_notes: "f_medical", checkin_deadline: "checkin_deadline",
  visit_every_days: "visit_every_days", sex: "sex", birth_year: "birth_year", care_level: "care_level",
  consent_by: "consent_by", consent_on: "consent_given", id_number: "id_number", contacts: "contacts", active: "active",
  away_from: "away_from", away_to: "away_to", conditions: "conditions", allergies: "allergies", medicines: "medicines",
  mobility: "mobility", hospital: "hospital", needs: "needs",
};
const HISTORY_CODES = { sex: "sex_", care_level: "care_", household: "hh_", mobility: "mob_" };  // stored codes, said in words
function contactText(c) {
  const more = [c.country, c.timezone, c.language === "en" ? t("sms_in_english") : "",
    c.notify ? t("notify_contact") : "", c.has_key ? t("has_key_contact") : ""].filter(Boolean);
  if (!more.length) return `${c.name} ${c.phone}`;
  return lang() === "en" ? `${c.name} ${c.phone} (${more.join(", ")})` : `${c.name} ${c.phone}（${more.join("，")}）`;
}
function historyValue(field, v) {
  if (v === null || v === undefined || v === "") return "–";
  if (typeof v === "boolean") return v ? t("yes") : t("no");
  if (Array.isArray(v)) return v.map(contactText).join(lang() === "en" ? "; " : "；") || "–";
  if (HISTORY_CODES[field]) return t(HISTORY_CODES[field] + v);
  const text = String(v);
  return text.length > 80 ? text.slice(0, 79) + "…" : text;
}
async function showHistory(residentId) {
  const box = document.getElementById("record-history");
  if (!box) return;
  const changes = await load(`/api/v1/residents/${encodeURIComponent(residentId)}/history`);
  patch(box, `<h3>${t("history_title")}</h3>${changes.length ? `<ol class="record-history">${changes.map((c, i) => `
    <li data-key="change-${i}-${esc(c.at)}"><span class="muted">${when(c.at)} · ${esc(c.actor)}</span><ul>
    ${Object.entries(c.fields).map(([f, [from, to]]) => `<li><b>${esc(HISTORY_LABELS[f] ? t(HISTORY_LABELS[f]) : f)}</b>:
      ${esc(historyValue(f, from))} → ${esc(historyValue(f, to))}</li>`).join("")}</ul></li>`).join("")}</ol>` : `<p class="muted">${t("history_none")}</p>`}`);
}
