// seqgen studio: small helpers for the page's fields and its message line.
import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

export function say(text, isError = false) {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

export function numberField(id) {
  const text = $(id).value.trim();
  if (text === "") return null;
  return Number.isFinite(Number(text)) ? Number(text) : text;  // the server explains bad values
}

export function tempo() {
  const qpm = Number($("qpm").value);
  return qpm >= state.limits.qpm[0] && qpm <= state.limits.qpm[1] ? qpm : 120;
}

export function swing() {
  return Number($("swing").value);
}

export function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Whether a key pressed in ``target`` is typing (so not a shortcut).
export function typing(target) {
  return target.matches("input:not([type=checkbox]):not([type=range]), textarea, select");
}

// Download ``href`` (a file the server names), not open it as a page.
export function downloadLink(href) {
  const link = document.createElement("a");
  link.href = href;
  link.download = "";
  document.body.append(link);
  link.click();
  link.remove();
}
