// The operator board's start-up and wiring. Its parts are loaded before this file by board.html:
// page.js (shared state and ACTIONS), api.js (the server), render.js (patching the page in place),
// sound.js (the alarm), live.js (the stream), alerts.js (cards and their actions), devices.js.
"use strict";
function refreshSoon() {  // many events in a burst make one reload
  if (state.refreshing) return;
  state.refreshing = setTimeout(async () => {
    state.refreshing = null;
    try { await loadBoard(); if (state.tab === "devices") await loadDevices(); } catch (e) { console.warn(e); }
  }, 30);
}

document.addEventListener("click", async (ev) => {
  const el = ev.target.closest("[data-action]");
  const run = el && ACTIONS[el.dataset.action];
  if (!run) return;
  ev.preventDefault();
  try { await run(el); } catch (e) { alert(e.message); el.disabled = false; }
});
function showTab(name) {
  state.tab = name;
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x.dataset.tab === name));
  for (const tab of ["open", "history", "devices", "roster"]) document.getElementById("tab-" + tab).hidden = tab !== name;
  if (name === "history") loadHistory(); else if (name === "devices") loadDevices(); else if (name === "roster") loadRoster();
}
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
document.getElementById("search").addEventListener("submit", (ev) => { ev.preventDefault(); loadHistory(); });
for (const id of ["f-community", "f-kind"]) {
  document.getElementById(id).addEventListener("change", () => {
    loadBoard();
    if (state.tab === "history") loadHistory(); else if (state.tab === "roster" && id === "f-community") loadRoster();
  });
}
document.getElementById("lang").addEventListener("click", () => {
  switchLanguage(); applyWords(); showLive(streamOn); showSound(!!sound.timer); renderBoard();
  if (state.tab === "devices") loadDevices(); else if (state.tab === "history") renderHistory();
  else if (state.tab === "roster") renderRoster();
});
document.getElementById("signout").addEventListener("click", async () => {
  await api("/api/v1/session", { method: "DELETE" }).catch(() => {});
  location.href = "/login";
});
// silent since … follows the clock, not an event: the devices tab looks again now and then
setInterval(() => { if (state.tab === "devices" && !document.hidden) loadDevices().catch(console.warn); }, 30000);
setInterval(tickCountdowns, 1000);
setInterval(pollBroker, 5000);

(async function start() {
  applyWords();
  showLive(false);
  unlockSound();  // where the browser allows sound without a click; else the header asks for one
  state.me = await api("/api/v1/me");
  pollBroker();
  document.getElementById("admin-link").hidden = state.me.role !== "admin";
  document.getElementById("me").textContent = `${state.me.display_name || state.me.name} (${state.me.role})${canAct() ? "" : " · " + t("viewer_note")}`;
  const communities = await api("/api/v1/communities");
  document.getElementById("f-community").insertAdjacentHTML("beforeend",
    communities.map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`).join(""));
  await loadBoard();
  connect(refreshSoon);
})();
document.querySelectorAll("[data-until-ready]").forEach((b) => { b.disabled = false; });  // the handlers are in place: the form may be sent
