// The operator board: open alerts live (Server-Sent Events), take or close a call in one click.
"use strict";
const OUTCOMES = ["false_alarm", "helped_at_home", "family_came", "ambulance_called", "taken_to_hospital", "other"];
const state = { me: null, board: null, tab: "open", seen: new Set(), flashing: null, audio: null, refreshing: null };

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)jinqiao_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}
async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.method && options.method !== "GET") headers["x-csrf-token"] = csrf();
  if (options.body) headers["content-type"] = "application/json";
  const r = await fetch(path, { ...options, headers, credentials: "same-origin" });
  learnServerTime(r);
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
  return r.json();
}
function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function when(iso) { return iso ? new Date(iso).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN") : "–"; }
// Countdowns run on the server's clock, learnt from each response's Date header: an office PC whose
// clock is minutes off must not show a tier due later or sooner than the dispatcher will act.
let serverSkewMs = 0;
function learnServerTime(response) {
  const at = Date.parse(response.headers.get("date") || "");
  if (Number.isNaN(at)) return;
  const skew = at + 500 - Date.now();  // the header has whole seconds: take the middle of that second
  if (Math.abs(skew - serverSkewMs) > 1000) serverSkewMs = skew;  // keep a settled value steady
}
function serverNow() { return Date.now() + serverSkewMs; }
function countdown(iso) {
  if (!iso) return "–";
  const s = Math.max(0, Math.round((new Date(iso) - serverNow()) / 1000));
  const mmss = `${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
// the reasons dispatcher/supervision.py gives its alerts (emergencies carry the event type: alarm, fall)
const SUPERVISION_REASONS = { offline: "offline_alert", heartbeat_missed: "heartbeat_missed_alert", checkin_missed: "checkin_missed_alert" };
function reason(r) { return t(SUPERVISION_REASONS[r] || r); }
function canAct() { return state.me && (state.me.role === "operator" || state.me.role === "admin"); }

// --- sound and title ---------------------------------------------------------------------------
function beep() {
  window.jinqiaoBeeps = (window.jinqiaoBeeps || 0) + 1;  // what the browser test can see of a sound
  try {
    state.audio = state.audio || new (window.AudioContext || window.webkitAudioContext)();
    const ctx = state.audio;
    ctx.resume();
    [0, 0.35, 0.7].forEach((at) => {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + at); osc.stop(ctx.currentTime + at + 0.2);
    });
  } catch (e) { /* no audio on this device */ }
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
function newEmergency() { beep(); flashTitle(); }

// --- rendering ---------------------------------------------------------------------------------
function alertCard(a, withActions) {
  const tierName = a.tier ? t(a.tier) : t("no_tier");
  const tiers = (state.board && state.board.tiers) || [];
  const next = a.next_tier || tiers[a.tier_index + 1] || tiers[tiers.length - 1];  // next_tier: the kind's own
  const timer = a.state === "triggered" ? `<span>${t("next_tier")}${next ? " → " + t(next) : ""}: <b class="countdown" data-at="${esc(a.next_action_at)}">${countdown(a.next_action_at)}</b></span>`
    : a.state === "acknowledged" ? `<span>${t("expires")}: <b class="countdown" data-at="${esc(a.next_action_at)}">${countdown(a.next_action_at)}</b></span>` : "";
  const notes = (a.notifications || []).map((n) =>
    `<li>${esc(n.recipient_name || n.to_number)} · ${t(n.channel)} · <span class="st st-${esc(n.status)}">${t(n.status)}${n.provider_status ? " (" + esc(n.provider_status) + ")" : ""}</span></li>`).join("");
  const actions = withActions && canAct() ? `
    <div class="actions">
      ${a.state === "triggered" ? `<button class="ack" data-action="ack" data-id="${a.id}">${t("ack")}</button>` : ""}
      <select class="outcome" data-id="${a.id}" aria-label="${t("outcome")}">${OUTCOMES.map((o) => `<option value="${o}">${t(o)}</option>`).join("")}</select>
      <input class="note" data-id="${a.id}" placeholder="${t("note")}" maxlength="2000">
      <button class="resolve" data-action="resolve" data-id="${a.id}">${t("resolve")}</button>
    </div>` : "";
  return `<article class="alert kind-${esc(a.kind)} state-${esc(a.state)}" data-alert-id="${a.id}" data-state="${esc(a.state)}">
    <div class="head"><span class="badge">${t(a.kind)}</span><span class="badge st">${t(a.state)}</span>
      <span class="code">#${esc(a.code)}</span><span class="time">${t("opened_at")} ${when(a.opened_at)}</span></div>
    <h3><a href="#" data-action="card" data-resident="${esc(a.resident_id)}">${esc(a.resident_name)}</a></h3>
    <p class="addr">${esc(a.address)} · ${esc(reason(a.reason))}</p>
    <p class="meta"><span>${t("tier")}: <b>${tierName}</b></span>${timer}
      ${a.repeat_presses ? `<span>${t("repeats")}: <b>${a.repeat_presses}</b></span>` : ""}
      ${a.acknowledged_by ? `<span>${t("by")}: <b class="by">${esc(a.acknowledged_by)}</b></span>` : ""}
      ${a.outcome ? `<span>${t("outcome")}: <b>${t(a.outcome)}</b></span>` : ""}
      ${a.note ? `<span>${t("note")}: ${esc(a.note)}</span>` : ""}</p>
    ${notes ? `<ul class="notified">${notes}</ul>` : ""}
    ${actions}
    <a href="#" class="link" data-action="timeline" data-id="${a.id}">${t("timeline")}</a>
  </article>`;
}
function renderBoard() {
  const b = state.board;
  if (!b) return;
  document.getElementById("open-list").innerHTML = b.open.length ? b.open.map((a) => alertCard(a, true)).join("")
    : `<p class="empty">${t("none_open")}</p>`;
  document.getElementById("recent-list").innerHTML = b.recent.map((a) => alertCard(a, false)).join("");
}
function filters() {
  const p = new URLSearchParams();
  const c = document.getElementById("f-community").value, k = document.getElementById("f-kind").value;
  if (c) p.set("community", c);
  if (k) p.set("kind", k);
  return p;
}
async function loadBoard() {
  const b = await api("/api/v1/board?" + filters());
  for (const a of b.open) {
    if (!state.seen.has(a.id) && state.board && a.kind === "emergency") newEmergency();
    state.seen.add(a.id);
  }
  state.board = b;
  renderBoard();
}
function refreshSoon() {  // many events in a burst make one reload
  if (state.refreshing) return;
  state.refreshing = setTimeout(async () => {
    state.refreshing = null;
    try { await loadBoard(); if (state.tab === "devices") await loadDevices(); } catch (e) { console.warn(e); }
  }, 30);
}
async function loadHistory() {
  const p = filters();
  const q = document.getElementById("q").value.trim(), s = document.getElementById("f-state").value;
  if (q) p.set("q", q);
  if (s) p.set("state", s);
  const list = await api("/api/v1/alerts?limit=200&" + p);
  document.getElementById("history-list").innerHTML = list.map((a) => alertCard(a, false)).join("") || `<p class="empty">–</p>`;
}
function health(d) {
  const bad = [d.offline && t("offline"), d.heartbeat_overdue && t("overdue"), d.battery_low && t("low_battery")].filter(Boolean);
  // a commodity button (Zigbee, Shelly, Tasmota) has no light or sound: whoever calls back must tell the resident
  const mute = d.can_show_feedback === false ? ` <span class="mute">${t("no_feedback")}</span>` : "";
  return (bad.length ? `<span class="bad">${bad.join(" · ")}</span>` : `<span class="good">${t("ok")}</span>`) + mute;
}
function maintenanceRow(m) {
  const close = canAct() ? `<td><div class="actions"><input class="mnote" data-id="${m.id}" placeholder="${t("note")}" maxlength="2000">
    <button class="resolve" data-action="close-item" data-id="${m.id}">${t("close_item")}</button></div></td>` : "";
  return `<tr data-item="${m.id}"><td>${esc(m.device_id)}</td>
    <td>${m.resident_id ? `<a href="#" data-action="card" data-resident="${esc(m.resident_id)}">${esc(m.resident_name || m.resident_id)}</a>` : "–"}</td>
    <td>${esc(m.reason === "battery_low" ? t("low_battery") : m.reason)}</td><td class="battery">${m.battery == null ? "–" : esc(m.battery) + "%"}</td>
    <td>${when(m.opened_at)}</td>${close}</tr>`;
}
async function loadMaintenance() {
  const items = await api("/api/v1/supervision/maintenance?state=open");
  const typed = new Map([...document.querySelectorAll("input.mnote")].map((el) => [el.dataset.id, el.value]));
  document.getElementById("maintenance-list").innerHTML = items.length ? `<table class="devices maintenance"><tr>
    <th>${t("device_col")}</th><th>${t("resident")}</th><th></th><th>${t("battery")}</th><th>${t("since")}</th>${canAct() ? "<th></th>" : ""}</tr>`
    + items.map(maintenanceRow).join("") + "</table>" : `<p class="empty">${t("none_maintenance")}</p>`;
  document.querySelectorAll("input.mnote").forEach((el) => { el.value = typed.get(el.dataset.id) || ""; });  // a refresh keeps a note being typed
}
async function loadDevices() {
  await loadMaintenance();
  const list = await api("/api/v1/devices");
  document.getElementById("device-list").innerHTML = `<table class="devices"><tr><th>ID</th><th>${t("kind")}</th><th></th>
    <th>${t("battery")}</th><th>${t("last_seen")}</th></tr>` + list.map((d) => `<tr data-device="${esc(d.id)}">
    <td>${esc(d.id)}<br><a href="#" data-action="card" data-resident="${esc(d.resident)}">${esc(d.resident || "")}</a></td>
    <td>${esc(d.kind)}</td><td>${health(d)}</td><td>${d.battery ?? "–"}</td><td>${when(d.last_seen_at)}</td></tr>`).join("") + "</table>";
}
function dialog(html) {
  document.getElementById("dialog-body").innerHTML = html;
  const d = document.getElementById("dialog");
  if (!d.open) d.showModal();
}
async function showTimeline(id) {
  const a = await api(`/api/v1/alerts/${id}`);
  dialog(`<h3>${t("timeline")} #${esc(a.code)} · ${esc(a.resident_name)}</h3><ol class="timeline">` +
    a.timeline.map((e) => `<li><time>${when(e.at)}</time> <b>${esc(e.what)}</b> ${esc(e.actor || "")}
      ${e.channel ? "(" + esc(e.channel) + ")" : ""} ${e.detail && Object.keys(e.detail).length ? `<code>${esc(JSON.stringify(e.detail))}</code>` : ""}</li>`).join("") +
    `</ol><h4>${t("notified")}</h4><ul>` + a.notifications.map((n) => `<li>${esc(n.recipient_name || n.to_number)} · ${t(n.channel)} · ${esc(n.purpose)} · ${t(n.status)}</li>`).join("") + "</ul>");
}
async function showCard(residentId) {
  const r = await api(`/api/v1/residents/${encodeURIComponent(residentId)}`);
  dialog(`<h3>${t("card")} · ${esc(r.name)}</h3><dl>
    <dt>${t("address")}</dt><dd>${esc(r.address)} (${esc(r.community_name || "")} ${esc(r.building_name || "")})</dd>
    <dt>${t("medical")}</dt><dd>${esc(r.medical_notes || "–")}</dd>
    <dt>${t("contacts")}</dt><dd>${(r.contacts || []).map((c) => `${esc(c.name)} <a href="tel:${esc(c.phone)}">${esc(c.phone)}</a>${c.notify ? " · " + t("notify_family") : ""}`).join("<br>") || "–"}</dd>
    <dt>${t("volunteers")}</dt><dd>${r.volunteers.map((v) => `${esc(v.name)} <a href="tel:${esc(v.phone)}">${esc(v.phone)}</a>`).join("<br>") || "–"}
      ${r.mediator ? `<br>${t("mediator")}: ${esc(r.mediator.name)} <a href="tel:${esc(r.mediator.phone)}">${esc(r.mediator.phone)}</a>` : ""}</dd>
    <dt>${t("devices_of")}</dt><dd>${r.devices.map((d) => `${esc(d.id)} (${esc(d.kind)}) ${health(d)}`).join("<br>") || "–"}</dd></dl>`);
}

// --- actions -----------------------------------------------------------------------------------
document.addEventListener("click", async (ev) => {
  const el = ev.target.closest("[data-action]");
  if (!el) return;
  ev.preventDefault();
  const id = el.dataset.id;
  try {
    if (el.dataset.action === "ack") {
      el.disabled = true;
      await api(`/api/v1/alerts/${id}/ack`, { method: "POST" });
      refreshSoon();
    } else if (el.dataset.action === "resolve") {
      el.disabled = true;
      const outcome = document.querySelector(`select.outcome[data-id="${id}"]`).value;
      const note = document.querySelector(`input.note[data-id="${id}"]`).value;
      await api(`/api/v1/alerts/${id}/resolve`, { method: "POST", body: JSON.stringify({ outcome, note }) });
      refreshSoon();
    } else if (el.dataset.action === "close-item") {
      el.disabled = true;
      const note = document.querySelector(`input.mnote[data-id="${id}"]`).value;
      await api(`/api/v1/supervision/maintenance/${id}/close`, { method: "POST", body: JSON.stringify({ note }) });
      await loadDevices();
    } else if (el.dataset.action === "timeline") await showTimeline(id);
    else if (el.dataset.action === "card") await showCard(el.dataset.resident);
  } catch (e) { alert(e.message); el.disabled = false; }
});
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
  state.tab = b.dataset.tab;
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
  for (const name of ["open", "history", "devices"]) document.getElementById("tab-" + name).hidden = name !== state.tab;
  if (state.tab === "history") loadHistory(); else if (state.tab === "devices") loadDevices();
}));
document.getElementById("search").addEventListener("submit", (ev) => { ev.preventDefault(); loadHistory(); });
document.getElementById("f-community").addEventListener("change", () => { loadBoard(); if (state.tab === "history") loadHistory(); });
document.getElementById("f-kind").addEventListener("change", () => { loadBoard(); if (state.tab === "history") loadHistory(); });
document.getElementById("lang").addEventListener("click", () => { switchLanguage(); applyWords(); showLive(streamOn); renderBoard(); if (state.tab === "devices") loadDevices(); });
document.getElementById("signout").addEventListener("click", async () => {
  await api("/api/v1/session", { method: "DELETE" }).catch(() => {});
  location.href = "/login";
});
setInterval(() => { if (state.tab === "devices" && !document.hidden) loadDevices().catch(console.warn); }, 30000);  // no stream event for these
setInterval(() => document.querySelectorAll(".countdown").forEach((el) => { el.textContent = countdown(el.dataset.at); }), 1000);

// --- live stream -------------------------------------------------------------------------------
let streamOn = false;
let broker = null;  // the gateway's broker link, from /readyz; null where this process cannot know it
function hhmm(iso) { return new Date(iso).toLocaleTimeString(lang() === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit" }); }
function showLive(on) {
  streamOn = on;
  const live = document.getElementById("live");
  if (broker && broker.connected === false) {  // presses cannot reach us: say so in words, not 实时
    live.className = "live off broker-down";
    live.textContent = `${t("broker_down")} · ${t("broker_since").replace("{t}", hhmm(broker.since))}`;
    live.title = broker.reason || "";
    return;
  }
  live.className = on ? "live on" : "live off";
  live.textContent = t(on ? "live" : "reconnecting");
  live.title = "";
}
async function pollBroker() {
  try {
    const r = await fetch("/readyz", { cache: "no-store" });
    broker = (await r.json()).broker ?? null;
  } catch (e) { /* the web process itself is away: the stream's state says so */ }
  showLive(streamOn);
}
setInterval(pollBroker, 5000);
function connect() {
  const source = new EventSource("/api/v1/stream");  // reconnects by itself, with Last-Event-ID
  source.addEventListener("hello", () => { showLive(true); refreshSoon(); });
  source.addEventListener("entry", (ev) => {
    const e = JSON.parse(ev.data);
    window.jinqiaoLastEntry = e;
    refreshSoon();
  });
  source.addEventListener("changed", refreshSoon);
  source.addEventListener("signed_out", () => { source.close(); location.href = "/login"; });
  source.onerror = () => {
    showLive(false);
    if (source.readyState === EventSource.CLOSED) {  // an HTTP error ends EventSource's own retries
      setTimeout(() => api("/api/v1/me").then(connect, () => setTimeout(connect, 2000)), 1000);
    }
  };
}

(async function start() {
  applyWords();
  showLive(false);
  state.me = await api("/api/v1/me");
  pollBroker();
  document.getElementById("me").textContent = `${state.me.name} (${state.me.role})${canAct() ? "" : " · " + t("viewer_note")}`;
  const communities = await api("/api/v1/communities");
  document.getElementById("f-community").insertAdjacentHTML("beforeend",
    communities.map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`).join(""));
  await loadBoard();
  connect();
})();
