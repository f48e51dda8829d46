// The admin page's start-up: who is signed in, the tabs, the language switch.
"use strict";
const REGISTRY_TABS = ["residents", "devices", "responders"];
async function showAdminTab(name) {
  admin.tab = name;
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x.dataset.tab === name));
  const section = REGISTRY_TABS.includes(name) ? "registry" : ["policy", "calendar"].includes(name) ? "json" : name;
  for (const id of ["users", "audit", "registry", "roster", "json"]) document.getElementById("tab-" + id).hidden = id !== section;
  if (name === "users") await loadUsers();
  else if (name === "audit") await loadAudit();
  else if (name === "roster") await loadRoster();
  else if (section === "json") await loadDocument(name);
  else { document.getElementById("entry-editor").innerHTML = ""; await loadSection(name); }
}
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => showAdminTab(b.dataset.tab).catch((e) => alert(e.message))));
document.getElementById("lang").addEventListener("click", () => {
  switchLanguage(); applyWords(); showMe();
  // what is being typed stays: only the lists are drawn again
  if (admin.tab === "users") loadUsers(); else if (admin.tab === "audit") loadAudit(); else if (REGISTRY_TABS.includes(admin.tab)) loadSection(admin.tab);
});
function showMe() {
  if (admin.me) document.getElementById("me").textContent = `${admin.me.display_name || admin.me.name} (${t("role_" + admin.me.role)})`;
}
(async function start() {
  applyWords();
  admin.me = await load("/api/v1/me");
  showMe();
  // the page opens on the accounts; a tab the admin picked while this loaded has loaded itself
  if (admin.tab === "users") await showAdminTab("users");
})();
document.querySelectorAll("[data-until-ready]").forEach((b) => { b.disabled = false; });  // the handlers are in place: the form may be sent
