"use strict";
applyWords();
document.getElementById("lang").onclick = () => { switchLanguage(); applyWords(); };
document.getElementById("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  const r = await fetch("/api/v1/session", {
    method: "POST", headers: { "content-type": "application/json" }, credentials: "same-origin",
    body: JSON.stringify({ name: document.getElementById("name").value, password: document.getElementById("password").value }),
  });
  if (r.ok) { location.href = "/"; return; }
  error.textContent = r.status === 429 ? t("limited") : t("wrong");
});
document.querySelectorAll("[data-until-ready]").forEach((b) => { b.disabled = false; });  // the handlers are in place: the form may be sent
