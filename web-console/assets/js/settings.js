// Settings: recording, blocked callers' answer, courtesy beeps, retention, the secret.
import { $, api, ask, guarded } from "./common.js";

const NUMBERS = ["retention_days", "retention_megabytes", "min_free_megabytes"];
const CHOICES = ["record_by_default", "block_response", "courtesy_beeps"];

// The form cannot be saved until the stored values are in it: saving what the page showed
// before they arrived would overwrite every setting with an empty or default value.
export async function loadSettings() {
  const form = $("#settings-form");
  const button = form.querySelector("button[type=submit]");
  form.setAttribute("aria-busy", "true");
  button.disabled = true;
  const settings = await api("GET", "/settings");
  for (const key of [...CHOICES, ...NUMBERS]) form[key].value = settings[key];
  form.announce_secret.placeholder = settings.announce_secret ? "set (type to change)" : "none";
  $("#remove-secret").hidden = !settings.announce_secret;
  form.setAttribute("aria-busy", "false");
  button.disabled = false;
}

async function save(event) {
  event.preventDefault();
  const form = event.target;
  const values = Object.fromEntries([...CHOICES, ...NUMBERS].map((key) => [key, form[key].value]));
  if (form.announce_secret.value) values.announce_secret = form.announce_secret.value;
  try {
    await api("PUT", "/settings", values); // all or nothing
    form.announce_secret.value = "";
    $("#settings-saved").textContent = "Saved.";
  } catch (error) {
    $("#settings-saved").textContent = error.message;
  }
  await loadSettings();
}

async function removeSecret() {
  const sure = await ask({
    title: "Remove the announcement secret?", message: "Announcements go out unsigned; desktops that require a secret ignore them.",
    confirm: "Remove", danger: true,
  });
  if (!sure) return;
  await api("PUT", "/settings/announce_secret", { value: "" });
  $("#settings-saved").textContent = "Secret removed.";
  await loadSettings();
}

export function setUpSettings() {
  $("#settings-form").addEventListener("submit", guarded(save));
  $("#remove-secret").addEventListener("click", guarded(removeSecret));
}
