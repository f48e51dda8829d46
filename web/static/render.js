// Turning data into the page: escaping, times, countdowns, and `patch`, which updates a part of the
// page in place (morphdom, vendor/) so that a live update never loses what the operator is doing.
"use strict";
function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function when(iso) { return iso ? new Date(iso).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN") : "–"; }
function countdown(iso) {
  if (!iso) return "–";
  const s = Math.max(0, Math.round((new Date(iso) - serverNow()) / 1000));
  const mmss = `${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
function tickCountdowns() { document.querySelectorAll(".countdown").forEach((el) => { el.textContent = countdown(el.dataset.at); }); }

// A form control the operator has typed into or chosen from is theirs until its part of the page
// goes away: `patch` leaves it (its value, focus and selection) as it is.
const CONTROLS = new Set(["INPUT", "SELECT", "TEXTAREA"]);
function markTouched(ev) { if (CONTROLS.has(ev.target.tagName)) ev.target.dataset.touched = "1"; }
document.addEventListener("input", markTouched, true);
document.addEventListener("change", markTouched, true);

function keyOf(node) {  // keyed elements are patched in place and moved, never rebuilt
  if (node.nodeType !== 1) return undefined;
  return node.getAttribute("data-key") || node.id || undefined;
}
function keepsItsOwnState(el) {
  return CONTROLS.has(el.tagName) && (el === document.activeElement || el.dataset.touched === "1");
}
// Where the caret is in a focused field; a text input of another type has no selection to keep.
function caretOf(el) {
  try { return [el.selectionStart, el.selectionEnd, el.selectionDirection]; } catch (e) { return null; }
}
// Replace the children of `container` by `html`, changing only what differs.
function patch(container, html) {
  const next = document.createElement(container.tagName);
  next.innerHTML = html;
  const active = container.contains(document.activeElement) ? document.activeElement : null;
  const caret = active && caretOf(active);
  window.morphdom(container, next, {
    childrenOnly: true,
    getNodeKey: keyOf,
    onBeforeElUpdated: (from, to) => !keepsItsOwnState(from) && !from.isEqualNode(to),
  });
  // morphdom moves a keyed element by taking it out and putting it back (a new row above it), and
  // a moved element loses focus: give it back, with the caret where it was
  if (active && active.isConnected && document.activeElement !== active) {
    active.focus({ preventScroll: true });
    if (caret && caret[0] != null) active.setSelectionRange(caret[0], caret[1], caret[2] || "none");
  }
}
