// The service team (服务队) on the visits page: each community's volunteers with their skills and hours,
// and, for an operator, a "交给" control on each open follow-up item that gives it to one of them (they
// get an SMS). Read by visits.js: loadTeams() before the items are drawn, assignControl(item) in each.
"use strict";
const teams = {};  // community id -> members, as /service-team gives them (who can be asked now first)

async function loadTeams(communities) {
  await Promise.all(communities.map(async (id) => {
    teams[id] = await api(`/api/v1/communities/${encodeURIComponent(id)}/service-team`);
  }));
  const members = communities.flatMap((id) => teams[id] || []);
  document.getElementById("t-list").innerHTML = members.length
    ? members.map((m) => `<div class="member${m.available_now ? " now" : ""}" id="t-${esc(m.responder_id)}">
        <b>${esc(m.name)}</b> ${esc(m.skill_names.join("、"))} · ${esc(m.hours)} ·
        <span class="when">${m.available_now ? "现在可联系" : "不在服务时间"}</span> · 手上 ${m.open_items} 件 ·
        <a href="tel:${esc(m.phone)}">${esc(m.phone)}</a></div>`).join("")
    : `<p class="empty">还没有登记服务队成员（在名册的社区下填写 service_team）。</p>`;
}

function assignControl(f) {
  const members = teams[f.community_id] || [];
  if (!members.length || f.state !== "open") return "";
  const options = members.map((m) => `<option value="${esc(m.responder_id)}"${m.name === f.owner ? " selected" : ""}>
    ${esc(m.name)}（${esc(m.skill_names.join("、"))}${m.available_now ? "" : "，不在服务时间"}）</option>`).join("");
  return `<select id="assign-${f.id}" aria-label="交给服务队成员"><option value="">交给服务队…</option>${options}</select>
    <button data-assign="${f.id}" id="give-${f.id}">交给</button>`;
}

async function assign(id, reload) {
  const to = document.getElementById(`assign-${id}`).value;
  const error = document.getElementById("v-error");
  if (!to) { error.textContent = "请先选择服务队成员"; error.hidden = false; return; }
  try {
    await api(`/api/v1/follow-ups/${id}/assign`, { method: "POST", body: JSON.stringify({ responder_id: to }) });
    error.hidden = true;
    await reload();
  } catch (e) {
    error.textContent = "未能交办：" + message(e);
    error.hidden = false;
  }
}
