// The alarm: rings every few seconds while an emergency waits for someone to take it, until it is
// acknowledged or the operator mutes it; a new emergency rings again. Browsers play sound only after
// the page's first click or key press (autoplay rules), so until then the header says so.
// `window.jinqiaoBeeps` counts the rings actually played (the browser test reads it), and
// `window.jinqiaoNotified` the browser notifications shown.
"use strict";
const RING_EVERY_MS = 4000;
const sound = { ctx: null, ringing: [], muted: new Set(), timer: null };

function audioRunning() { return !!sound.ctx && sound.ctx.state === "running"; }
function unlockSound() {  // called on the page's first gesture, and at start (some browsers allow it)
  try {
    sound.ctx = sound.ctx || new (window.AudioContext || window.webkitAudioContext)();
    const resumed = sound.ctx.resume();
    if (resumed && resumed.then) resumed.then(updateRinging, () => {});
  } catch (e) { /* no audio on this device */ }
  if ("Notification" in window && Notification.permission === "default" && navigator.userActivation?.isActive) {
    Notification.requestPermission().catch(() => {});
  }
  updateRinging();
}
function ring() {
  if (!audioRunning()) return;
  window.jinqiaoBeeps = (window.jinqiaoBeeps || 0) + 1;
  const ctx = sound.ctx;
  [0, 0.35, 0.7].forEach((at) => {
    const osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.2;
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + at); osc.stop(ctx.currentTime + at + 0.2);
  });
}
// `ids`: the open emergencies nobody has acknowledged yet (from each board load).
function setRinging(ids) {
  sound.ringing = ids;
  for (const id of [...sound.muted]) if (!ids.includes(id)) sound.muted.delete(id);
  updateRinging();
}
function muteRinging() { sound.ringing.forEach((id) => sound.muted.add(id)); updateRinging(); }
function updateRinging() {
  const loud = sound.ringing.some((id) => !sound.muted.has(id)) && audioRunning();
  if (loud && !sound.timer) { ring(); sound.timer = setInterval(ring, RING_EVERY_MS); }
  if (!loud && sound.timer) { clearInterval(sound.timer); sound.timer = null; }
  showSound(loud);
}
function showSound(loud) {
  const el = document.getElementById("sound"), mute = document.getElementById("mute");
  const muted = sound.ringing.length > 0 && sound.ringing.every((id) => sound.muted.has(id));
  const word = !audioRunning() ? "sound_locked" : loud ? "sound_ringing" : muted ? "sound_muted" : "sound_on";
  const waiting = !audioRunning() && sound.ringing.some((id) => !sound.muted.has(id));  // should ring, cannot yet
  el.className = "sound " + word.replace("_", "-") + (waiting ? " sound-ringing" : "");
  el.textContent = t(word);
  el.dataset.state = word;
  mute.hidden = !loud;
}
function notifyEmergency(a) {  // the browser's own notification, where the operator allowed it
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const n = new Notification(t("new_emergency") + " " + a.resident_name, { body: `${a.address} · #${a.code}`, tag: `alert-${a.id}`, requireInteraction: true });
    n.onclick = () => { window.focus(); n.close(); };
    window.jinqiaoNotified = (window.jinqiaoNotified || 0) + 1;
  } catch (e) { /* not allowed here (some browsers allow it only from a service worker) */ }
}
for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, unlockSound, { capture: true });
