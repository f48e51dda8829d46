// The admin page's shared part: talking to the server with its validation answers, and showing each
// message next to the field it concerns. A form is drawn once; an error never redraws it, so nothing
// typed is lost.
"use strict";
const admin = { tab: "users", me: null };

async function send(path, method = "GET", body = undefined) {
  const headers = {};
  if (method !== "GET") headers["x-csrf-token"] = csrf();
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  return { ok: r.ok, status: r.status, data: await r.json().catch(() => ({})) };
}
async function load(path) {
  const r = await send(path);
  if (!r.ok) throw new Error(typeof r.data.detail === "string" ? r.data.detail : r.statusText);
  return r.data;
}

// field path -> messages, from FastAPI's (`detail`: [{loc, msg}]), the registry's (`fields`) or a plain detail
function fieldErrors(data) {
  const out = {};
  const add = (f, m) => { (out[f] = out[f] || []).push(m); };
  if (Array.isArray(data.detail)) {
    for (const e of data.detail) add((e.loc || []).slice(e.loc && e.loc[0] === "body" ? 1 : 0).join("."), e.msg);
  } else if (Array.isArray(data.fields)) {
    for (const e of data.fields) add(e.field || "", e.message);
  } else {
    add("", data.detail || "error");
  }
  return out;
}
// the server's messages are English; the commonest ones are said in Chinese on the Chinese page
const MESSAGES_ZH = [
  [/not an E\.164 number '([^']*)'/, "“$1”不是有效的电话号码，请写成 +86 开头的完整号码，如 +8613800000000"],
  [/the password must have at least (\d+) characters/, "密码至少需要 $1 个字符"],
  [/an account named '([^']*)' exists already/, "用户名“$1”已被使用"],
  [/bad name '([^']*)'.*/, "用户名“$1”不可用：只能用字母、数字和 _ . @ -，最多 64 个字符"],
  [/you cannot change your own role.*/, "不能更改自己的角色，请让另一位管理员操作"],
  [/'([^']*)' is the last active admin.*/, "“$1”是最后一位管理员，请先设置另一位管理员"],
  [/^Field required$/, "必填"],
  [/the display name may not hold control characters/, "显示名称不能包含控制字符"],
  [/unknown responder '([^']*)'/, "没有编号为“$1”的人员"],
  [/duplicate phone.*/, "这个电话号码已被其他人使用"],
  [/an ID number has 18 characters.*/, "身份证号应为18位：17位数字，最后一位是数字或X"],
  [/the ID number (\S+) does not add up.*/, "身份证号 $1 校验不符，请对照身份证核对"],
  [/an empty-nest household lives with a spouse.*/, "空巢老人与老伴同住，不是独居：请取消勾选“独居”"],
  [/household 'alone' but lives_alone is false.*/, "居住情况为独居，却未勾选“独居”：请改正其中一项"],
  [/unknown time zone '([^']*)'.*/, "没有“$1”这个时区，请写成 Australia/Sydney 这样的时区名称"],
  [/^String should have at most (\d+) characters?$/, "最多 $1 个字"],
];
function localize(message) {
  const text = String(message).replace(/^Value error, /, "");  // pydantic's prefix says nothing to a person
  if (lang() !== "zh") return text;
  for (const [re, zh] of MESSAGES_ZH) if (re.test(text)) return text.replace(re, zh);
  return text;
}
function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; el.hidden = true; });
  form.querySelectorAll(".has-error").forEach((el) => el.classList.remove("has-error"));
}
function showErrors(form, errors) {
  clearErrors(form);
  for (const [path, messages] of Object.entries(errors)) {
    let f = path, el = null;
    for (;;) {  // contacts.0.phone, else contacts.0, else contacts, else the form's own slot
      el = form.querySelector(`[data-error-for="${CSS.escape(f)}"]`);
      if (el || f === "") break;
      f = f.includes(".") ? f.slice(0, f.lastIndexOf(".")) : "";
    }
    if (!el) continue;
    el.textContent = (el.textContent ? el.textContent + "; " : "") + messages.map(localize).join("; ");
    el.hidden = false;
    if (el.parentElement && el.parentElement.classList.contains("field")) el.parentElement.classList.add("has-error");
  }
}
function errorSlot(path) { return `<small class="field-error" data-error-for="${esc(path)}" hidden></small>`; }
function inputField(path, label, value, { type = "text", wide = false, options = null, id = "" } = {}) {
  const idAttr = `id="${esc(id || "fld-" + path.replace(/\./g, "-"))}"`;
  let control;
  if (options) {
    control = `<select name="${esc(path)}" ${idAttr}>${options.map(([v, l]) =>
      `<option value="${esc(v)}"${String(v) === String(value ?? "") ? " selected" : ""}>${esc(l)}</option>`).join("")}</select>`;
  } else if (type === "textarea") {
    control = `<textarea name="${esc(path)}" ${idAttr}>${esc(value ?? "")}</textarea>`;
  } else if (type === "checkbox") {
    return `<label class="field check"><input type="checkbox" name="${esc(path)}" ${idAttr}${value ? " checked" : ""}> <span>${esc(label)}</span>${errorSlot(path)}</label>`;
  } else {
    control = `<input type="${type}" name="${esc(path)}" ${idAttr} value="${esc(value ?? "")}">`;
  }
  return `<label class="field${wide ? " wide" : ""}"><span>${esc(label)}</span>${control}${errorSlot(path)}</label>`;
}
function valueOf(form, name) {
  const el = form.querySelector(`[name="${CSS.escape(name)}"]`);
  if (!el) return undefined;
  return el.type === "checkbox" ? el.checked : el.value.trim();
}
function flash(el, text) { el.textContent = text; el.hidden = false; }

document.addEventListener("click", async (ev) => {
  const el = ev.target.closest("[data-action]");
  const run = el && ACTIONS[el.dataset.action];
  if (!run) return;
  ev.preventDefault();
  try { await run(el); } catch (e) { alert(e.message); }
});
