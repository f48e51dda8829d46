// The history tab: alerts by text, state, outcome and a range of days (the community's calendar
// days, `until` included: web/api/alert_filters.py), with the community and kind of the nav; how many
// match, and 更多 for the next page. A new search starts from the first page.
"use strict";
const HISTORY_PAGE = 50;
const historyShown = { items: [], total: 0, params: "" };
// Each search, and each 更多, answers the newest search only: an answer that comes back after a
// newer search was started (the tab's first load, slow, after the operator's filter) is dropped.
let historySearch = 0;

function historyParams() {
  const p = filters();
  const read = (id) => document.getElementById(id).value.trim();
  for (const [name, id] of [["q", "q"], ["state", "f-state"], ["outcome", "f-outcome"], ["since", "f-since"], ["until", "f-until"]]) {
    if (read(id)) p.set(name, read(id));
  }
  return p;
}
// one page of alerts, and how many match in all (the X-Total-Count header)
async function alertPage(params, offset) {
  const r = await fetch(`/api/v1/alerts?limit=${HISTORY_PAGE}&offset=${offset}&${params}`, { credentials: "same-origin" });
  learnServerTime(r);
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
  return { items: await r.json(), total: Number(r.headers.get("x-total-count") || 0) };
}
function renderHistory() {
  const { items, total } = historyShown;
  const q = document.getElementById("q").value.trim();
  const none = q ? t("name_not_found").replace("{q}", q) : t("history_none");
  patch(document.getElementById("history-list"), items.map((a) => alertCard(a, "history")).join("") || `<p class="empty">${esc(none)}</p>`);
  document.getElementById("history-count").textContent = items.length
    ? t("history_count").replace("{total}", total).replace("{shown}", items.length) : "";
  document.getElementById("history-more").hidden = items.length >= total;
}
function historyError(message) {
  historyShown.items = [];
  historyShown.total = 0;
  renderHistory();
  document.getElementById("history-count").textContent = message;
}
async function loadHistory() {
  const since = document.getElementById("f-since").value, until = document.getElementById("f-until").value;
  if (since && until && since > until) { historySearch++; historyError(t("range_backwards")); return; }
  const params = historyParams().toString();
  const search = ++historySearch;
  try {
    const page = await alertPage(params, 0);
    if (search !== historySearch) return;
    Object.assign(historyShown, { items: page.items, total: page.total, params });
  } catch (e) { if (search === historySearch) historyError(e.message); return; }
  renderHistory();
}
ACTIONS["history-more"] = async (el) => {
  el.disabled = true;
  const search = historySearch;
  try {
    const page = await alertPage(historyShown.params, historyShown.items.length);
    if (search !== historySearch) return;
    const known = new Set(historyShown.items.map((a) => a.id));  // a new alert may have shifted the pages
    historyShown.items.push(...page.items.filter((a) => !known.has(a.id)));
    historyShown.total = page.total;
  } finally { el.disabled = false; }
  renderHistory();
};
