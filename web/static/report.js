// The calls report page: pick a month and a community, read the figures, download or print them.
"use strict";
const KIND = { emergency: "紧急呼叫", wellness: "平安关怀", device: "设备告警" };
const OUTCOME = { false_alarm: "误报", helped_at_home: "上门帮助", family_came: "家属到场",
  ambulance_called: "已叫救护车", taken_to_hospital: "已送医院", other: "其他" };
const TIER = { building: "楼道党员", mediator: "调解员", hotline: "求援热线" };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function secs(v) {
  if (v === null || v === undefined) return "–";
  const n = Math.round(v);
  return n >= 60 ? `${Math.floor(n / 60)}分${String(n % 60).padStart(2, "0")}秒` : `${n}秒`;
}
function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }
function query() {
  const p = new URLSearchParams({ month: document.getElementById("r-month").value });
  const c = document.getElementById("r-community").value;
  if (c) p.set("community", c);
  return p;
}
function counts(title, map, names) {
  const rows = Object.entries(map).map(([k, n]) => `<tr><td>${esc(names[k] || k)}</td><td class="n">${n}</td></tr>`).join("");
  return `<h2>${title}</h2><table><tbody>${rows || `<tr><td colspan="2">–</td></tr>`}</tbody></table>`;
}
function timing(label, d) {
  return `<tr><td>${label}</td><td class="n">${d.count}</td><td class="n">${secs(d.p50)}</td><td class="n">${secs(d.p90)}</td><td class="n">${secs(d.max)}</td></tr>`;
}
function downtime(seconds) {
  const minutes = Math.round(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}小时${String(minutes % 60).padStart(2, "0")}分` : `${minutes}分钟`;
}

function render(r, communityName) {
  const top = Math.max(1, ...r.by_hour);
  const within = r.acknowledged_within.map((w) => `<tr><td>${w.seconds}秒内接警</td><td class="n">${pct(w.share)}</td>
    <td class="n">${pct(w.target)}</td><td class="${w.met === null ? "" : w.met ? "met" : "missed"}">${w.met === null ? "–" : w.met ? "达标" : "未达标"}</td></tr>`).join("");
  document.getElementById("r-body").innerHTML = `
    <h1 class="title">${esc(communityName)} 呼叫月报</h1>
    <p>${esc(r.since)} 至 ${esc(r.until)} · 呼叫 <b id="r-calls">${r.calls}</b> 次 · 误报 ${r.false_alarms} 次 ·
      老人自行取消 ${r.cancelled} 次 · 尚未结案 ${r.still_open} 次 · 未按时报平安 ${r.checkins_missed} 次</p>
    <p id="r-visits">走访 ${r.visits.visits} 次 · 走访覆盖 ${r.visits.visited}/${r.visits.residents} 位居民（${pct(r.visits.share)}）</p>
    <p id="r-devices">设备可用率 ${pct(r.devices.share)}（${r.devices.devices} 台设备 · 离线告警 ${r.devices.outages} 次 · 累计 ${downtime(r.devices.down_seconds)}）</p>
    ${counts("按类型", r.by_kind, KIND)}
    ${counts("按结果", r.by_outcome, OUTCOME)}
    ${counts("升级所至", r.by_tier, TIER)}
    <h2>紧急呼叫用时（自按键起）</h2>
    <table id="r-timing"><thead><tr><th></th><th>次数</th><th>中位</th><th>90%</th><th>最长</th></tr></thead><tbody>
      ${timing("至首次通知", r.to_first_page)}${timing("至接警", r.to_acknowledge)}${timing("至结案", r.to_resolve)}</tbody></table>
    <h2>接警及时率（TEC 标准）</h2>
    <table id="r-within"><thead><tr><th></th><th>实际</th><th>目标</th><th></th></tr></thead><tbody>${within}</tbody></table>
    <h2>按时段（每小时呼叫数）</h2>
    <div class="hours" id="r-hours">${r.by_hour.map((n, h) => `<div title="${h}时 ${n}次" data-n="${n}"></div>`).join("")}</div>
    <div class="hour-labels">${r.by_hour.map((_, h) => `<span>${h % 3 === 0 ? h : ""}</span>`).join("")}</div>`;
  // heights through the DOM, not a style attribute: the page's content security policy allows no inline styles
  for (const bar of document.querySelectorAll("#r-hours div")) bar.style.height = `${(Number(bar.dataset.n) / top) * 100}%`;
}
async function load() {
  const error = document.getElementById("r-error");
  error.hidden = true;
  const p = query();
  document.getElementById("r-csv").href = `/api/v1/reports/calls?${p}&format=csv`;
  document.getElementById("r-xlsx").href = `/api/v1/reports/calls?${p}&format=xlsx`;
  try {
    const r = await api(`/api/v1/reports/calls?${p}`);
    const select = document.getElementById("r-community");
    render(r, select.value ? select.selectedOptions[0].textContent : "全部社区");
  } catch (e) {
    error.textContent = "无法生成报表：" + e.message;
    error.hidden = false;
  }
}
async function start() {
  const params = new URLSearchParams(location.search);
  const month = document.getElementById("r-month");
  const last = new Date(serverNow());
  last.setUTCDate(1);
  last.setUTCMonth(last.getUTCMonth() - 1);  // the report usually handed in: last month's
  month.value = params.get("month") || last.toISOString().slice(0, 7);
  const communities = await api("/api/v1/communities");
  document.getElementById("r-community").insertAdjacentHTML("beforeend",
    communities.map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`).join(""));
  if (params.get("community")) document.getElementById("r-community").value = params.get("community");
  document.getElementById("report-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.querySelectorAll("[data-until-ready]").forEach((b) => { b.disabled = false; });  // the handlers are in place: the form may be sent
  document.getElementById("r-print").addEventListener("click", () => window.print());
  await load();
}
start();
