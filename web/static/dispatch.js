// 派人前往 (send someone to the resident): on an open card a button opens a chooser in the page's
// dialog with who can be sent (the building's volunteers, the mediator, the hotline on duty, from
// GET …/dispatchable) and 我去 (the operator goes). After sending, the card shows 前往 <name> from the
// alert's dispatched_to, live like everything else on it.
"use strict";
function dispatchButton(a) {
  return `<button class="dispatch" data-action="dispatch" data-id="${a.id}">${t(a.dispatched_to ? "dispatch_again" : "dispatch")}</button>`;
}
// the ask to go is a page without a tier (the tiers' pages have one): the card tells it from them
function askToGo(n) { return n.purpose === "page" && n.tier_index == null ? " · " + t("ask_to_go") : ""; }
function dispatchChoice(id, p, going) {
  const sent = going === p.name;
  return `<li><button class="choice${sent ? " sent" : ""}" data-action="dispatch-to" data-id="${id}" data-responder="${esc(p.id)}">
    <b>${esc(p.name)}</b> <span class="role">${t("role_" + p.tier)}</span> <span class="phone">${esc(p.phone)}</span>${sent ? ` <span class="now">${t("dispatched_now")}</span>` : ""}</button></li>`;
}
ACTIONS.dispatch = async (el) => {
  const id = el.dataset.id;
  const people = await api(`/api/v1/alerts/${id}/dispatchable`);
  const a = ((state.board && state.board.open) || []).find((x) => String(x.id) === id) || {};
  const me = state.me.display_name || state.me.name;
  dialog(`<h3>${t("dispatch_title")} · ${esc(a.resident_name || "")}</h3>
    <p class="mute">${esc(a.address || "")}${a.code ? " · #" + esc(a.code) : ""}</p>
    <p>${t("dispatch_hint")}</p>
    <ul class="dispatch-list" id="dispatch-list">${people.map((p) => dispatchChoice(id, p, a.dispatched_to)).join("")}
      <li><button class="choice self" data-action="dispatch-to" data-id="${id}" data-self="1"><b>${t("dispatch_self")}</b> <span class="role">${esc(me)}</span></button></li></ul>
    <p class="error" id="dispatch-error" role="alert"></p>`);
};
ACTIONS["dispatch-to"] = async (el) => {
  const body = el.dataset.self ? { self: true } : { responder_id: el.dataset.responder };
  document.querySelectorAll("#dispatch-list button").forEach((b) => { b.disabled = true; });
  try {
    await api(`/api/v1/alerts/${el.dataset.id}/dispatch`, { method: "POST", body: JSON.stringify(body) });
  } catch (e) {  // told in the chooser, which stays open: the operator picks again or closes it
    document.getElementById("dispatch-error").textContent = e.message;
    document.querySelectorAll("#dispatch-list button").forEach((b) => { b.disabled = false; });
    return;
  }
  document.getElementById("dialog").close();
  refreshSoon();
};
