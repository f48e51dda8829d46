// What every part of the board shares: who is signed in, what is shown, and ACTIONS: an action is
// a `data-action` on a clickable element and a function of that name here, which each part adds.
"use strict";
const state = { me: null, board: null, tab: "open", seen: new Set(), flashing: null, refreshing: null };
const ACTIONS = {};  // name -> async (element) => …

function canAct() { return state.me && (state.me.role === "operator" || state.me.role === "admin"); }
function filters() {
  const p = new URLSearchParams();
  const c = document.getElementById("f-community").value, k = document.getElementById("f-kind").value;
  if (c) p.set("community", c);
  if (k) p.set("kind", k);
  return p;
}
