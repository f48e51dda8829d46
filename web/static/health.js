// The record's health fields on the board (the card, the 120 hand-off): one row each, only those on
// file, in the order the hand-off text reads them. The other notes (medical_notes) are "其他健康情况"
// beside named conditions, or "健康情况" (无登记 when empty) alone. A viewer's answers have no
// health keys at all: then no row is shown, not even an empty one.
"use strict";
const HEALTH_ORDER = ["conditions", "allergies", "medicines", "medical_notes", "mobility", "hospital", "needs"];
function healthRows(r, fields = HEALTH_ORDER, idPrefix = "card") {
  if (!("medical_notes" in r)) return "";
  const named = ["conditions", "allergies", "medicines"].some((f) => r[f]);
  const row = (f) => {
    if (f === "medical_notes") {
      const notes = r.medical_notes || (named ? "" : t("none_on_file"));
      return notes ? `<dt>${t(named ? "medical_other" : "medical")}</dt><dd id="${idPrefix}-medical">${esc(notes)}</dd>` : "";
    }
    if (!r[f]) return "";
    return `<dt>${t(f)}</dt><dd id="${idPrefix}-${f}">${esc(f === "mobility" ? t(`mob_${r[f]}`) : r[f])}</dd>`;
  };
  return HEALTH_ORDER.filter((f) => f === "medical_notes" || fields.includes(f)).map(row).join("");
}
