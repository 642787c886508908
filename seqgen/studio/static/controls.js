// seqgen studio: the controls a model is steered by (a style, a density...) and its plugin's switches, on the left.
import { $, capitalized } from "./page.js";

export function showOptions(options) {
  const ticked = new Set([...$("options").querySelectorAll("input:checked")].map((input) => input.value));
  $("options").replaceChildren(...options.map((option) => {
    const label = document.createElement("label");
    label.className = "switch";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = option.flag;
    input.disabled = Boolean(option.unavailable);
    input.checked = !option.unavailable && ticked.has(option.flag);
    const text = document.createElement("span");
    text.textContent = option.label;
    const help = document.createElement("small");
    help.textContent = option.unavailable ? `not for this model: ${option.unavailable}` : option.help;
    text.append(help);
    label.append(input, text);
    return label;
  }));
}

// A control's field: a menu of its values or a number in its range, "any" (empty) when unset.
export function controlInput(control) {
  let input;
  if (control.kind === "category") {
    input = document.createElement("select");
    input.append(new Option("any", ""), ...control.values.map((value) => new Option(value, value)));
  } else {
    input = document.createElement("input");
    Object.assign(input, { type: "number", min: control.low, max: control.high, step: "any", placeholder: "any" });
  }
  input.dataset.control = control.name;
  return input;
}

// Controls a model is steered by (a style, a density...): a menu or a number each, "any" when unset.
export function showControls(controls) {
  $("controls").replaceChildren(...controls.map((control) => {
    const label = document.createElement("label");
    label.className = "field";
    label.append(capitalized(control.name));
    const input = controlInput(control);
    const help = document.createElement("small");
    help.textContent = control.description;
    label.append(input, help);
    return label;
  }));
}

export function controlValues() {
  const values = {};
  for (const input of $("controls").querySelectorAll("[data-control]")) {
    if (input.value !== "") values[input.dataset.control] = input.type === "number" ? Number(input.value) : input.value;
  }
  return values;
}
