// Talking to the server: fetch with the CSRF token, and the server's clock learnt from its answers.
"use strict";
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
  if (!r.ok) throw Object.assign(new Error((await r.json().catch(() => ({}))).detail || r.statusText), { status: r.status });
  return r.json();
}
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
