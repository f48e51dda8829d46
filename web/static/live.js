// The live stream (Server-Sent Events) and the header's word for it: 实时, reconnecting, or the
// message broker down since when (from /readyz), so the board never says live when presses cannot come.
"use strict";
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
// `onChange`: called on every entry or change (the caller coalesces bursts)
function connect(onChange) {
  const source = new EventSource("/api/v1/stream");  // reconnects by itself, with Last-Event-ID
  source.addEventListener("hello", () => { showLive(true); onChange(); });
  source.addEventListener("entry", (ev) => {
    window.jinqiaoLastEntry = JSON.parse(ev.data);
    onChange();
  });
  source.addEventListener("changed", () => onChange());  // notifications, delivery reports, maintenance items
  source.addEventListener("signed_out", () => { source.close(); location.href = "/login"; });
  source.onerror = () => {
    showLive(false);
    if (source.readyState === EventSource.CLOSED) {  // an HTTP error ends EventSource's own retries
      setTimeout(() => api("/api/v1/me").then(() => connect(onChange), () => setTimeout(() => connect(onChange), 2000)), 1000);
    }
  };
}
