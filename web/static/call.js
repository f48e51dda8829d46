// In a call: 再次通知 (page the tier again), 转下一级 (escalate now), a note at any time, and the
// 120 hand-off button on emergency cards. alerts.js puts callBox(a) on each open card; the box is
// keyed (data-key, ids) so a note being typed stays through live updates (render.js patch).
"use strict";
const CALL_HINTS = {};  // alert id -> what its last action said: drawn with the card, so a live update keeps it
function callBox(a) {
  const handoff = a.kind === "emergency" ? `<button class="handoff" data-action="handoff" data-id="${a.id}">${t("handoff")}</button>` : "";
  if (!canAct()) return handoff ? `<div class="call" data-key="call-${a.id}">${handoff}</div>` : "";
  const paging = a.state === "triggered" && a.tier_index >= 0;
  // at the last tier nobody comes next (its own timer repeats it): 再次通知 is the button there
  const higher = paging && a.next_tier && a.next_tier !== a.tier;
  return `<div class="call" data-key="call-${a.id}">
      ${paging ? `<button class="repage" data-action="repage" data-id="${a.id}">${t("repage")}</button>` : ""}
      ${higher ? `<button class="escalate" data-action="escalate" data-id="${a.id}" data-tier="${a.tier_index}" data-round="${a.tier_round}">${t("escalate")}</button>` : ""}
      ${handoff}
      <input class="callnote" id="callnote-${a.id}" data-id="${a.id}" placeholder="${t("callnote_ph")}" aria-label="${t("callnote_ph")}" maxlength="2000">
      <button class="savenote" data-action="addnote" data-id="${a.id}">${t("save_note")}</button>
      <span class="hint" id="callhint-${a.id}" role="status">${esc(CALL_HINTS[a.id] || "")}</span>
    </div>`;
}
// a notification's status in words; a call's own words (answered, not reached) rather than an SMS's
function statusWord(n) {
  const own = n.channel === "voice" ? WORDS[lang()]["voice_" + n.status] : null;
  return own || t(n.status);
}
// a provider that would not take the message (its limit for the number used up): who, and who carried it instead
function providerWord(p) { return (WORDS[lang()] || WORDS.zh)["provider_" + p] ?? p; }
function refusedWords(n) {
  return (n.refused || []).map((r) => {
    const by = providerWord(r.by);
    const then = r.then ? t("refused_then").replace("{p}", providerWord(r.then)) : t("refused_nobody");
    return ` · <span class="refused">${esc(t(r.limit ? "refused_limit" : "refused_by").replace("{p}", by))}${esc(then)}</span>`;
  }).join("");
}
function callHint(id, text) {
  CALL_HINTS[id] = text;
  const h = document.getElementById(`callhint-${id}`);
  if (h) h.textContent = text;
}

ACTIONS.repage = async (el) => {
  el.disabled = true;
  const r = await api(`/api/v1/alerts/${el.dataset.id}/repage`, { method: "POST" });
  callHint(el.dataset.id, r.changed ? t("repaged").replace("{n}", r.pages) : t("repage_repeat"));
  el.disabled = false;
  refreshSoon();
};
ACTIONS.escalate = async (el) => {
  el.disabled = true;
  const body = { from_tier: Number(el.dataset.tier), from_round: Number(el.dataset.round) };
  await api(`/api/v1/alerts/${el.dataset.id}/escalate`, { method: "POST", body: JSON.stringify(body) });
  refreshSoon();
};
// a note from the card's box or the timeline dialog's (data-input names the field)
ACTIONS.addnote = async (el) => {
  const input = document.getElementById(el.dataset.input || `callnote-${el.dataset.id}`);
  const text = input.value.trim();
  const say = (msg) => {
    if (el.dataset.hint) document.getElementById(el.dataset.hint).textContent = msg; else callHint(el.dataset.id, msg);
  };
  if (!text) { say(t("note_empty")); return; }
  el.disabled = true;
  try {
    await api(`/api/v1/alerts/${el.dataset.id}/notes`, { method: "POST", body: JSON.stringify({ text }) });
  } finally { el.disabled = false; }
  input.value = "";
  delete input.dataset.touched;  // the box is the board's again: live updates may redraw it
  say(t("note_saved"));
  if (el.dataset.input) await showTimeline(el.dataset.id);  // the dialog shows the note at once
};
