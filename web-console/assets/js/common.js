// What every page of the console uses: DOM helpers, the JSON API, notices, dialogs, formats.

export const $ = (selector, root = document) => root.querySelector(selector);

export const el = (tag, props = {}, ...children) => {
  const { dataset, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(node.dataset, dataset);
  for (const child of children) node.append(child);
  return node;
};

// A call to the API under /api/: the answer's JSON (null for 204), or an Error with the
// console's message. A request that changes state carries the CSRF header.
export async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["X-Ringside"] = "1"; // CSRF protection: the console refuses changes without it
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(`/api${path}`, options);
  if (response.status === 401) {
    location.assign(`/login${location.hash}`); // the session ended: log in again, then come back
    throw new Error("Log in again.");
  }
  if (!response.ok) {
    const error = await response.json().catch(() => ({ error: response.statusText }));
    throw new Error(error.error || response.statusText);
  }
  return response.status === 204 ? null : response.json();
}

// A message at the top of the page (an error unless said otherwise); it goes after a while.
let noticeTimer;
export function notice(message, kind = "error") {
  const box = $("#notice");
  box.textContent = message;
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

// Runs an action from a button, reporting its error instead of failing silently.
export const guarded = (action) => async (...args) => {
  try { await action(...args); } catch (error) { notice(error.message); }
};

// A small form in a modal <dialog>. Resolves with the form's values (an object; empty for a
// plain confirmation), or null when cancelled with the button or Escape.
export function ask({ title, message = "", fields = [], confirm = "Save", danger = false }) {
  return new Promise((resolve) => {
    const form = el("form", { method: "dialog" }, el("h3", { textContent: title }));
    if (message) form.append(el("p", { className: "hint", textContent: message }));
    for (const field of fields) {
      const input = field.options
        ? el("select", { name: field.name }, ...field.options.map((option) => el("option", { value: option, textContent: option })))
        : el("input", { name: field.name, required: true, autocomplete: "off" });
      input.value = field.value ?? "";
      form.append(el("label", {}, field.label, input));
    }
    const cancel = el("button", { type: "button", className: "plain", textContent: "Cancel" });
    const ok = el("button", { type: "submit", value: "ok", className: danger ? "solid-danger" : "", textContent: confirm });
    form.append(el("div", { className: "dialog-buttons" }, cancel, ok));
    const dialog = el("dialog", {}, form);
    cancel.onclick = () => dialog.close();
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? Object.fromEntries(new FormData(form)) : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function when(rfc3339) {
  const date = new Date(rfc3339);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// m:ss
export function minutes(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// The caller to show: the phonebook's name, else the network's, else the number (escaped);
// with no number, whether the caller hid it ("Withheld") or the network did not say.
export function who(call) {
  if (call.anonymous) return "Withheld";
  return visible(call.display || call.name || call.number || "Unknown caller");
}

// The number column: the number, or why there is none.
export function numberOrWhy(call) {
  return call.number || (call.unknown ? "unknown" : "withheld");
}

export function badge(disposition) {
  return el("span", { className: `badge ${disposition || "ongoing"}`, textContent: disposition || "in progress" });
}

// Caller text (a name, a number, a pattern made from one) with its control characters and
// direction overrides shown as escapes, as the command line shows them: never obeyed by the page.
const hazards = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
export const visible = (text) => String(text).replace(hazards, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
