// The duty roster tab (值班表): who is on the hotline now and next, with the time of the change, and
// today and the next six days with their kind (holidays named, 调休 workdays marked), shifts, people
// and phones, as GET /api/v1/roster/duty plans them (registry/roster_plan.py). A day whose year
// China's calendar does not know says so, and so does a span nobody covers. It follows the nav's
// community and looks again every minute, since now and next move with the clock.
"use strict";
const ROSTER_DAYS = 7;

function personLine(p) {
  const off = p.active ? "" : ` <span class="warn">(${t("inactive")})</span>`;
  return `<span class="person"><b>${esc(p.name)}</b> ${p.phone ? `<a href="tel:${esc(p.phone)}">${esc(p.phone)}</a>` : ""}${off}</span>`;
}
function peopleLine(people) { return people.length ? people.map(personLine).join("、") : `<span class="bad">${t("nobody_next")}</span>`; }
function zoneTime(iso, zone) {
  const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false };
  return new Date(iso).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN", options);
}
// "今天 20:00", "明天 08:00", "12月7日 08:00": the day of a change on the plan's own calendar
function changeTime(iso, zone, today) {
  const local = new Date(iso).toLocaleDateString("en-CA", { timeZone: zone });  // YYYY-MM-DD
  const [y, m, d] = today.split("-").map(Number);
  const tomorrow = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
  const time = zoneTime(iso, zone);
  if (local === today) return t("today_at").replace("{t}", time);
  if (local === tomorrow) return t("tomorrow_at").replace("{t}", time);
  const day = new Date(iso).toLocaleDateString(lang() === "en" ? "en-GB" : "zh-CN", { timeZone: zone, month: "short", day: "numeric" });
  return t("on_day_at").replace("{d}", day).replace("{t}", time);
}
function dayTitle(d) {
  const [y, m, day] = d.date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, day)).toLocaleDateString(lang() === "en" ? "en-GB" : "zh-CN",
    { timeZone: "UTC", month: "short", day: "numeric", weekday: "short" });
}
function dayBadges(d) {
  const kind = t("day_" + d.kind);
  const name = d.holiday ? (lang() === "en" ? d.holiday.en : d.holiday.zh) : "";
  const badges = [d.known ? `<span class="badge day-kind">${esc(kind)}</span>`
    : `<span class="badge unknown">${t("calendar_unknown")}</span> <span class="badge day-kind guess">${esc(t("guess_kind").replace("{kind}", kind))}</span>`];
  if (d.kind === "holiday" && name) badges.push(`<span class="badge holiday-name">${esc(name)}</span>`);
  if (d.in_lieu) badges.push(`<span class="badge in-lieu">${t("in_lieu")}${name ? " · " + esc(name) : ""}</span>`);
  if (d.entered) badges.push(`<span class="badge entered">${t("entered")}</span>`);
  if (d.today) badges.push(`<span class="badge today">${t("day_today")}</span>`);
  return badges.join(" ");
}
function rosterDay(d) {
  const shifts = d.shifts.map((s) => `<li class="shift${s.current ? " current" : ""}" data-key="shift-${d.date}-${s.start}">
      <span class="span">${esc(s.start)}–${esc(s.end)}</span> ${peopleLine(s.people)}</li>`).join("");
  const gaps = d.gaps.map((g) => `<p class="gap bad">${esc(t("gap").replace("{start}", g.start).replace("{end}", g.end))}</p>`).join("");
  return `<article class="day kind-${esc(d.kind)}${d.today ? " is-today" : ""}${d.known ? "" : " unknown-day"}" data-key="day-${d.date}" data-date="${d.date}" data-kind="${esc(d.kind)}" data-known="${d.known}">
    <h3>${esc(dayTitle(d))} ${dayBadges(d)}</h3>
    <ul class="shifts">${shifts || `<li class="bad">${t("no_shift")}</li>`}</ul>${gaps}</article>`;
}
function rosterPlan(plan) {
  const zone = plan.timezone;
  const where = plan.communities.map((c) => `<span class="community">${esc(c.name)}${c.mediator
    ? ` · ${t("roster_mediator")} ${personLine(c.mediator)}` : ""}</span>`).join("<br>");
  const until = plan.next_change_at ? ` <span class="mute">${esc(t("until_change").replace("{t}", changeTime(plan.next_change_at, zone, plan.days[0].date)))}</span>` : "";
  const next = plan.next_change_at ? `<div class="duty-next" id="duty-next-${esc(zone)}"><span class="label">${t("next_on_duty")}</span>
      <span class="when">${esc(t("change_at").replace("{t}", changeTime(plan.next_change_at, zone, plan.days[0].date)))}</span> ${peopleLine(plan.next_on_duty)}</div>` : "";
  const unknown = plan.unknown_years.length ? `<p class="calendar-unknown warn-box" role="alert"><b>${t("calendar_unknown")}</b>${t("colon")}${esc(t("calendar_unknown_note").replace("{years}", plan.unknown_years.join("、")))}</p>` : "";
  return `<section class="plan" data-key="plan-${esc(zone)}" data-zone="${esc(zone)}">
    <p class="where">${where}<br><span class="mute">${t("roster_zone")}: ${esc(zone)}</span></p>
    <div class="duty">
      <div class="duty-now${plan.on_duty.length ? "" : " nobody"}" id="duty-now-${esc(zone)}"><span class="label">${t("on_duty_now")}</span>
        ${plan.on_duty.length ? peopleLine(plan.on_duty) + until : `<b class="bad">${t("nobody_on_duty")}</b>`}</div>
      ${next}
    </div>
    ${unknown}
    <div class="days">${plan.days.map(rosterDay).join("")}</div>
  </section>`;
}
function renderRoster() {
  const r = state.roster;
  if (!r) return;
  const gaps = r.gaps.length ? `<p class="warn-box roster-gaps" role="alert"><b>${t("gaps_title")}</b>${t("colon")}${r.gaps.map((g) =>
    esc(t("day_" + g.day_kind) + " " + t("gap").replace("{start}", g.start).replace("{end}", g.end))).join(lang() === "en" ? "; " : "；")}</p>` : "";
  patch(document.getElementById("roster-view"), gaps + r.plans.map(rosterPlan).join(""));
}
async function loadRoster() {
  const p = new URLSearchParams({ days: ROSTER_DAYS });
  const community = document.getElementById("f-community").value;
  if (community) p.set("community", community);
  state.roster = await api("/api/v1/roster/duty?" + p);
  renderRoster();
}
setInterval(() => { if (state.tab === "roster" && !document.hidden) loadRoster().catch(console.warn); }, 60000);
