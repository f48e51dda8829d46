// The audit tab: who changed which account or registry entry, newest first, fifty at a time.
"use strict";
const AUDIT_PAGE = 50;
let auditShown = 0;
async function loadAudit(more = false) {
  const p = new URLSearchParams({ limit: AUDIT_PAGE, offset: more ? auditShown : 0 });
  const actor = document.getElementById("audit-actor").value.trim(), action = document.getElementById("audit-action").value.trim();
  if (actor) p.set("actor", actor);
  if (action) p.set("action", action);
  const rows = await load("/api/v1/audit?" + p);
  admin.audit = more ? [...(admin.audit || []), ...rows] : rows;
  auditShown = admin.audit.length;
  document.getElementById("audit-more").hidden = rows.length < AUDIT_PAGE;
  patch(document.getElementById("audit-list"), admin.audit.length ? `<table class="admin-table"><thead><tr>
    <th>${t("audit_at")}</th><th>${t("audit_actor")}</th><th>${t("audit_action")}</th><th>${t("audit_target")}</th><th>${t("audit_detail")}</th></tr></thead><tbody>
    ${admin.audit.map((e) => `<tr data-key="audit-${e.id}"><td>${when(e.at)}</td><td>${esc(e.actor)}</td>
      <td>${esc(t("act_" + e.action) === "act_" + e.action ? e.action : t("act_" + e.action))}</td><td>${esc(e.target)}</td>
      <td class="muted">${esc(auditDetail(e.detail))}</td></tr>`).join("")}</tbody></table>` : `<p class="muted">${t("audit_none")}</p>`);
}
function auditDetail(d) {
  if (!d || !Object.keys(d).length) return "";
  if ("from" in d && "to" in d) return `${d.from || "–"} → ${d.to || "–"}`;
  if (d.entry) return JSON.stringify(d.entry).slice(0, 160);
  return Object.entries(d).filter(([, v]) => v !== "" && v != null).map(([k, v]) => `${k}: ${v}`).join(", ");
}
document.getElementById("audit-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadAudit(); });
document.getElementById("audit-more").addEventListener("click", () => loadAudit(true));
