// The 120 hand-off panel: what the operator reads aloud to the ambulance dispatcher, in large type,
// every number a tel: link, and one button that copies the whole text.
"use strict";
function tel(phone) { return phone ? `<a href="tel:${esc(phone)}">${esc(phone)}</a>` : t("none_on_file"); }
function people(list) {
  return list.length ? list.map((c) => `${esc(c.name)} ${tel(c.phone)}${c.has_key ? ` <span class="key">${t("has_key")}</span>` : ""}`).join("<br>") : t("none_on_file");
}
async function showHandoff(id) {
  const h = await api(`/api/v1/alerts/${id}/handoff?lang=${lang()}`);
  state.handoffText = h.text;
  dialog(`<div class="handoff-panel"><h3>${t("handoff_title")} · #${esc(h.code)}</h3><dl>
    <dt>${t("resident")}</dt><dd class="big">${esc(h.resident)}${h.sex || h.age ? ` <small>${[h.sex ? t(`sex_${h.sex}`) : "", h.age ? t("about_age").replace("{n}", h.age) : ""].filter(Boolean).join(", ")}</small>` : ""}</dd>
    <dt>${t("address")}</dt><dd class="big">${esc(h.address)}</dd>
    ${healthRows(h, ["conditions", "allergies", "medicines", "mobility", "hospital"], "handoff")}
    <dt>${t("resident_phone")}</dt><dd class="big">${tel(h.resident_phone)}</dd>
    <dt>${t("contacts")}</dt><dd>${people(h.contacts)}</dd>
    <dt>${t("key_holders")}</dt><dd>${people(h.key_holders)}</dd></dl>
    <button class="copy" data-action="copyhandoff">${t("copy")}</button> <span class="hint" id="copy-hint" role="status"></span></div>`);
}
ACTIONS.handoff = (el) => showHandoff(el.dataset.id);
ACTIONS.copyhandoff = async () => {
  const text = state.handoffText || "";
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {  // no clipboard permission (an old browser, plain http): copy through a selected field
    const area = document.createElement("textarea");
    area.value = text;
    document.getElementById("dialog-body").appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  document.getElementById("copy-hint").textContent = t("copied");
};
