// The timeline dialog: the call's history as sentences from the server (GET …/timeline?lang=),
// every message with its text and what became of it, and a box to add a note.
"use strict";
async function showTimeline(id) {
  const r = await api(`/api/v1/alerts/${id}/timeline?lang=${lang()}`);
  const lines = r.lines.map((x) => `<li class="tl-${esc(x.kind)}"><time>${esc(x.time)}</time> ${esc(x.text)}</li>`).join("");
  const box = canAct() ? `<div class="tl-notebox">
      <textarea id="tl-note" rows="2" maxlength="2000" placeholder="${t("callnote_ph")}" aria-label="${t("callnote_ph")}"></textarea>
      <button class="savenote" data-action="addnote" data-id="${esc(id)}" data-input="tl-note" data-hint="tl-hint">${t("save_note")}</button>
      <span class="hint" id="tl-hint" role="status"></span></div>` : "";
  dialog(`<h3>${t("timeline")} #${esc(r.code)}</h3><ol class="timeline readable">${lines}</ol>${box}`);
}
ACTIONS.timeline = (el) => showTimeline(el.dataset.id);
