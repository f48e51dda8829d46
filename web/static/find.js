// The header's search, on every tab: a code as the board and every SMS print it ("8150", "#8150")
// opens that alert's timeline (the open one with that code, else the newest); anything else (a
// name, an address) shows the matches in the history tab. A code nobody has says so beside the box.
"use strict";
const CODE_TYPED = /^#?\s*([0-9]{4,8})$/;

function findHint(text) { document.getElementById("find-hint").textContent = text; }
async function findAlert(text) {
  findHint("");
  const typed = text.trim();
  if (!typed) return;
  const code = typed.match(CODE_TYPED);
  if (code) {
    let found;
    try { found = await api(`/api/v1/alerts/by-code/${code[1]}`); } catch (e) {
      findHint(e.status === 404 ? t("code_not_found").replace("{code}", code[1]) : e.message);
      return;
    }
    await showTimeline(found.id);
    document.getElementById("dialog").scrollTop = 0;  // its title first: which call this is
    return;
  }
  document.getElementById("q").value = typed;
  document.getElementById("f-state").value = "";
  showTab("history");  // it loads the history with the text in its box
}
document.getElementById("find").addEventListener("submit", (ev) => {
  ev.preventDefault();
  findAlert(document.getElementById("find-q").value).catch((e) => findHint(e.message));
});
document.getElementById("find-q").addEventListener("input", () => findHint(""));
