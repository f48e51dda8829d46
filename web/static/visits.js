// The visits page: residents by how late their visit is; an operator records a visit for a party
// member who reported it by phone. The list is read again on a filter change and after a visit is saved.
"use strict";
const STATE = { overdue: "逾期", due: "今天该走访", ok: "按时", away: "外出" };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function day(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return `${m}月${d}日`;
}
function when(iso) {
  if (!iso) return "尚无走访记录";
  const t = new Date(iso);
  return `${t.getMonth() + 1}月${t.getDate()}日 ${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`;
}
function message(e) { return e.message || String(e); }

let operator = false;
let communityIds = [];

function card(r) {
  const late = r.state === "overdue" ? `（${r.overdue_days}天）` : "";
  const form = operator ? `
    <form class="record" data-resident="${esc(r.resident_id)}">
      <label>走访人 <input name="by" id="by-${esc(r.resident_id)}" maxlength="200" placeholder="${esc(r.visitors[0] || "")}"></label>
      <label>情况 <input name="note" id="note-${esc(r.resident_id)}" maxlength="2000" placeholder="如：精神好，血压正常"></label>
      <label>需要跟进 <input name="need" id="need-${esc(r.resident_id)}" maxlength="500" placeholder="如：需要修水管"></label>
      <button id="save-${esc(r.resident_id)}">记录走访</button>
      <span class="saved" id="ok-${esc(r.resident_id)}" role="status"></span>
    </form>` : "";
  return `<section class="resident ${esc(r.state)}" id="v-${esc(r.resident_id)}">
    <h2>${esc(r.name)}<span class="state">${STATE[r.state]}${late}</span></h2>
    <p class="facts">${esc(r.address)} · 每${r.every_days}天走访 · 应走访日 ${day(r.due_day)}</p>
    <p class="facts">上次：${when(r.last_visit_at)}${r.last_by ? ` · ${esc(r.last_by)}` : ""} · 楼道党员：${esc(r.visitors.join("、") || "未登记")}</p>
    ${form}
  </section>`;
}

async function load() {
  const error = document.getElementById("v-error");
  error.hidden = true;
  const p = new URLSearchParams({ show: document.getElementById("v-show").value });
  const c = document.getElementById("v-community").value;
  if (c) p.set("community", c);
  try {
    await Promise.all([loadSummary(c || communityIds[0]), loadTeams(c ? [c] : communityIds)]);
    await loadFollowUps(c);
    const rows = await api(`/api/v1/visits?${p}`);
    document.getElementById("v-count").textContent = `共 ${rows.length} 位`;
    document.getElementById("v-list").innerHTML = rows.length
      ? rows.map(card).join("")
      : `<p class="empty">${p.get("show") === "due" ? "今天没有需要走访的居民。" : "没有居民。"}</p>`;
  } catch (e) {
    error.textContent = "无法读取走访名单：" + message(e);
    error.hidden = false;
  }
}

function item(f) {
  const promised = f.promised_on ? `承诺 ${day(f.promised_on)}` : "未定日期";
  const close = operator ? `${assignControl(f)}
    <input id="outcome-${f.id}" maxlength="2000" placeholder="办理结果">
    <button data-done="${f.id}" id="done-${f.id}">办结</button>` : "";
  return `<div class="item${f.late ? " late" : ""}" id="f-${f.id}">
    <span class="what"><b>${esc(f.resident_name)}</b>：${esc(f.text)} · ${esc(f.owner || "未指定")} · ${promised}${f.late ? ' <span class="late-word">逾期</span>' : ""}
      <small>（${esc(f.opened_by)} 记于 ${when(f.opened_at)}）</small></span>${close}
  </div>`;
}

async function loadSummary(community) {
  const box = document.getElementById("v-summary");
  if (!community) { box.innerHTML = ""; return; }
  const s = await api(`/api/v1/communities/${encodeURIComponent(community)}/summary`);
  box.innerHTML = `<h2>调解员日报（${day(s.day)}）</h2><p id="v-summary-text">${esc(s.text.replace(/^【金桥】/, ""))}</p>`;
}

async function loadFollowUps(community) {
  const p = new URLSearchParams();
  if (community) p.set("community", community);
  const items = await api(`/api/v1/follow-ups?${p}`);
  document.getElementById("f-list").innerHTML = items.length ? items.map(item).join("") : `<p class="empty">没有未办的跟进事项。</p>`;
}

async function finish(id) {
  const outcome = document.getElementById(`outcome-${id}`).value.trim();
  try {
    await api(`/api/v1/follow-ups/${id}`, { method: "PUT", body: JSON.stringify({ state: "done", outcome }) });
    await loadFollowUps(document.getElementById("v-community").value);
  } catch (e) {
    const error = document.getElementById("v-error");
    error.textContent = "未能办结：" + message(e);
    error.hidden = false;
  }
}

async function record(form) {
  const id = form.dataset.resident;
  const value = (name) => form.elements[name].value.trim();
  const ok = document.getElementById(`ok-${id}`);
  ok.textContent = "";
  try {
    await api(`/api/v1/residents/${encodeURIComponent(id)}/visits`, {
      method: "POST",
      body: JSON.stringify({ by: value("by") || null, note: value("note"), need: value("need") || null }),
    });
    ok.textContent = value("need") ? "已记录，需要已转调解员" : "已记录";
    loadFollowUps(document.getElementById("v-community").value);
    setTimeout(load, 800);
  } catch (e) {
    ok.textContent = "未能记录：" + message(e);
    ok.className = "error";
  }
}

async function start() {
  const me = await api("/api/v1/me");
  operator = me.role === "operator" || me.role === "admin";
  const communities = await api("/api/v1/communities");
  communityIds = communities.map((c) => c.id);
  document.getElementById("v-community").insertAdjacentHTML("beforeend",
    communities.map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`).join(""));
  for (const id of ["v-community", "v-show"]) document.getElementById(id).addEventListener("change", load);
  document.getElementById("v-list").addEventListener("submit", (e) => { e.preventDefault(); record(e.target); });
  document.getElementById("f-list").addEventListener("click", (e) => {
    if (e.target.dataset.done) finish(e.target.dataset.done);
    if (e.target.dataset.assign) assign(e.target.dataset.assign, () => load());
  });
  await load();
}
start();
