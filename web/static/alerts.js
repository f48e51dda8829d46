// Alerts on the board: the cards (open, recently closed, history), the resident's card dialog, and
// 接警 and 结案 (the timeline dialog is timeline.js; 再次通知, 转下一级 and notes call.js; 120 handoff.js).
// Each card is keyed by its alert, so a live update patches it in place (render.js) and a note
// being typed or an outcome picked stays.
"use strict";
const NOTE_NEEDED = ["false_alarm", "other"];
const OUTCOMES = ["false_alarm", "helped_at_home", "family_came", "ambulance_called", "taken_to_hospital", "other"];
// the reasons dispatcher/supervision.py gives its alerts (emergencies carry the event type: alarm, fall)
const SUPERVISION_REASONS = { offline: "offline_alert", heartbeat_missed: "heartbeat_missed_alert", checkin_missed: "checkin_missed_alert" };
function reason(r) { return t(SUPERVISION_REASONS[r] || r); }

function alertTimer(a) {
  const at = esc(a.next_action_at);
  if (a.state === "triggered") {  // the next tier is paged when this runs out: an alarm
    const tiers = (state.board && state.board.tiers) || [];
    const people = a.next_tier_people || [];  // by name: whom the dispatcher pages when this runs out
    const next = people.length ? people[0].role : a.next_tier || tiers[a.tier_index + 1] || tiers[tiers.length - 1];
    const who = people.length ? ` <span class="who">${people.map((p) => esc(p.name)).join("、")}</span>` : "";
    return `<span class="timer escalates">${t("next_tier_label")}${next ? t(next) : ""}${who} · <b class="countdown urgent" data-at="${at}">${countdown(a.next_action_at)}</b></span>`;
  }
  if (a.state === "acknowledged") {  // someone has the call; this is only when it would reopen
    return `<span class="timer expires">${t("expires")}: <span class="countdown info" data-at="${at}">${countdown(a.next_action_at)}</span></span>`;
  }
  return "";
}
// what 结案 told the operator is kept here, so that a live update redrawing the card keeps saying it
const HINTS = {};
function hint(id, text) {
  HINTS[id] = text;
  const el = document.getElementById(`hint-${id}`);
  if (el) el.textContent = text;
}
function alertActions(a) {
  if (!canAct()) return "";
  return `<div class="actions" data-key="actions-${a.id}">
      ${a.state === "triggered" ? `<button class="ack" data-action="ack" data-id="${a.id}">${t("ack")}</button>` : ""}
      ${dispatchButton(a)}
      <select class="outcome" id="outcome-${a.id}" data-id="${a.id}" aria-label="${t("outcome")}"><option value="">${t("pick_outcome")}</option>${OUTCOMES.map((o) => `<option value="${o}">${t(o)}</option>`).join("")}</select>
      <input class="note" id="note-${a.id}" data-id="${a.id}" placeholder="${t("note")}" aria-label="${t("note")}" maxlength="2000">
      <button class="resolve" data-action="resolve" data-id="${a.id}">${t("resolve")}</button>
      <span class="hint" id="hint-${a.id}" role="alert">${esc(HINTS[a.id] || "")}</span>
    </div>`;
}
// `list`: which list the card is in (a key is unique within it); actions only on the open list
function alertCard(a, list) {
  const notes = (a.notifications || []).map((n) =>
    `<li data-key="n-${n.id}">${esc(n.recipient_name || n.to_number)} · ${t(n.channel)}${askToGo(n)} · <span class="st st-${esc(n.status)}">${statusWord(n)}</span>${refusedWords(n)}</li>`).join("");
  return `<article class="alert kind-${esc(a.kind)} state-${esc(a.state)}" data-key="${list}-${a.id}" data-alert-id="${a.id}" data-state="${esc(a.state)}">
    <div class="head"><span class="badge">${t(a.kind)}</span><span class="badge st">${t(a.state)}</span>
      <span class="code">#${esc(a.code)}</span><span class="time">${t("opened_at")} ${when(a.opened_at)}</span></div>
    <h3><a href="#" data-action="card" data-resident="${esc(a.resident_id)}">${esc(a.resident_name)}</a></h3>
    <p class="addr">${esc(a.address)} · ${esc(reason(a.reason))}</p>
    <p class="meta"><span>${t("tier")}: <b>${a.tier ? t(a.tier) : t("no_tier")}</b></span>${alertTimer(a)}
      ${a.repeat_presses ? `<span class="repeats">${t("repeats")}: <b>${a.repeat_presses}</b></span>` : ""}
      ${a.acknowledged_by ? `<span>${t("by")}: <b class="by">${esc(a.acknowledged_by)}</b></span>` : ""}
      ${a.dispatched_to ? `<span>${t("went")}: <b class="went">${esc(a.dispatched_to)}</b></span>` : ""}
      ${a.resolved_by ? `<span>${t("resolved_by")}: <b class="resolved-by">${esc(a.resolved_by)}</b></span>` : ""}
      ${a.outcome ? `<span>${t("outcome")}: <b>${t(a.outcome)}</b></span>` : ""}
      ${a.note ? `<span>${t("note")}: ${esc(a.note)}</span>` : ""}</p>
    <ul class="notified" data-key="notified-${a.id}">${notes}</ul>
    ${list === "open" ? alertActions(a) + callBox(a) : ""}
    <a href="#" class="link" data-action="timeline" data-id="${a.id}">${t("timeline")}</a>
  </article>`;
}
function renderBoard() {
  const b = state.board;
  if (!b) return;
  patch(document.getElementById("open-list"), b.open.length ? b.open.map((a) => alertCard(a, "open")).join("")
    : `<p class="empty">${t("none_open")}</p>`);
  patch(document.getElementById("recent-list"), b.recent.map((a) => alertCard(a, "recent")).join(""));
}

function flashTitle() {
  const base = t("title");
  clearInterval(state.flashing);
  let on = false;
  state.flashing = setInterval(() => { on = !on; document.title = on ? t("new_emergency") + " " + base : base; }, 700);
  const stop = () => { clearInterval(state.flashing); state.flashing = null; document.title = base; };
  window.addEventListener("focus", stop, { once: true });
  document.addEventListener("click", stop, { once: true });
}
// The board is asked again on every live event and after every action; answers may come back out of
// order on a loaded server, and one older than the newest question is dropped: a list from before an
// 接警 must not start the ringing again, nor show the call as still waiting.
let boardAsked = 0;
async function loadBoard() {
  const asked = ++boardAsked;
  const b = await api("/api/v1/board?" + filters());
  if (asked !== boardAsked) return;
  for (const a of b.open) {
    if (!state.seen.has(a.id) && state.board && a.kind === "emergency") { flashTitle(); notifyEmergency(a); }
    state.seen.add(a.id);
  }
  state.board = b;
  renderBoard();
  setRinging(b.open.filter((a) => a.kind === "emergency" && a.state === "triggered").map((a) => a.id));
}

function dialog(html) {
  document.getElementById("dialog-body").innerHTML = html;
  const d = document.getElementById("dialog");
  if (!d.open) d.showModal();
}
// sex, birth year, care level, household and the consent given (档案表); no consent on file is said so
function recordLine(r) {
  const parts = [];
  if (r.sex) parts.push(t(`sex_${r.sex}`));
  if (r.birth_year) parts.push(t("born").replace("{y}", r.birth_year));
  if (r.care_level) parts.push(t(`care_${r.care_level}`));
  if (r.household) parts.push(t(`hh_${r.household}`));
  const consent = r.consent ? `${t("consent")}: ${esc(r.consent.by)} ${esc(r.consent.given)}` : t("consent_none");
  return [...parts, consent].join(" · ");
}
async function showCard(residentId) {
  const r = await api(`/api/v1/residents/${encodeURIComponent(residentId)}`);
  dialog(`<h3>${t("card")} · ${esc(r.name)}</h3><dl>
    <dt>${t("address")}</dt><dd>${esc(r.address)} (${esc(r.community_name || "")} ${esc(r.building_name || "")})</dd>
    <dt>${t("resident_phone")}</dt><dd>${r.phone ? `<a href="tel:${esc(r.phone)}">${esc(r.phone)}</a>` : "–"}</dd>
    <dt>${t("record")}</dt><dd id="card-record">${recordLine(r)}</dd>
    ${healthRows(r)}
    <dt>${t("contacts")}</dt><dd>${(r.contacts || []).map((c) => `${esc(c.name)} <a href="tel:${esc(c.phone)}">${esc(c.phone)}</a>${c.country ? " · " + esc(c.country) : ""}${c.language === "en" ? " · " + t("sms_in_english") : ""}${c.notify ? " · " + t("notify_family") : ""}${c.has_key ? " · " + t("has_key") : ""}`).join("<br>") || "–"}</dd>
    <dt>${t("volunteers")}</dt><dd>${r.volunteers.map((v) => `${esc(v.name)} <a href="tel:${esc(v.phone)}">${esc(v.phone)}</a>`).join("<br>") || "–"}
      ${r.mediator ? `<br>${t("mediator")}: ${esc(r.mediator.name)} <a href="tel:${esc(r.mediator.phone)}">${esc(r.mediator.phone)}</a>` : ""}</dd>
    <dt>${t("devices_of")}</dt><dd>${r.devices.map((d) => `${esc(d.id)} (${t(d.kind)}) ${deviceCondition(d)}`).join("<br>") || "–"}</dd></dl>`);
}

ACTIONS.ack = async (el) => {
  el.disabled = true;
  await api(`/api/v1/alerts/${el.dataset.id}/ack`, { method: "POST" });
  refreshSoon();
};
ACTIONS.resolve = async (el) => {
  const id = el.dataset.id;
  const outcome = document.getElementById(`outcome-${id}`).value;
  const note = document.getElementById(`note-${id}`).value;
  // never closed by a default: the outcome is picked; a false alarm or "other" says why (the API agrees)
  if (!outcome) { hint(id, t("outcome_needed")); return; }
  if (NOTE_NEEDED.includes(outcome) && !note.trim()) { hint(id, t("note_needed")); return; }
  hint(id, "");
  el.disabled = true;
  await api(`/api/v1/alerts/${id}/resolve`, { method: "POST", body: JSON.stringify({ outcome, note }) });
  refreshSoon();
};
// what the hint asked for is being given: the hint goes until the next try
document.addEventListener("input", (ev) => {
  const el = ev.target;
  if (el.classList && (el.classList.contains("note") || el.classList.contains("outcome")) && el.dataset.id) hint(el.dataset.id, "");
});
ACTIONS.card = (el) => showCard(el.dataset.resident);
ACTIONS.mute = () => muteRinging();
