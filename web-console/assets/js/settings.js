// Settings: recording, blocked callers' answer, courtesy beeps, retention, the secret.
import { $, api, ask, guarded } from "./common.js";

const NUMBERS = ["retention_days", "retention_megabytes", "min_free_megabytes"];
const CHOICES = ["record_by_default", "block_response", "courtesy_beeps"];

export async function loadSettings() {
  const settings = await api("GET", "/settings");
  const form = $("#settings-form");
  for (const key of [...CHOICES, ...NUMBERS]) form[key].value = settings[key];
  form.announce_secret.placeholder = settings.announce_secret ? "set (type to change)" : "none";
  $("#remove-secret").hidden = !settings.announce_secret;
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
