// The phonebook: the user's names beside the network's, search, add, rename, delete, CSV.
import { $, api, ask, el, guarded, when } from "./common.js";
import { nameNumber } from "./callers.js";

function row(entry) {
  const rename = guarded(async () => {
    if (await nameNumber(entry.number, entry.user_name || entry.network_name || "")) await loadPhonebook();
  });
  const remove = guarded(async () => {
    const sure = await ask({ title: `Remove ${entry.number} from the phonebook?`, message: "Its calls stay in the log.", confirm: "Remove", danger: true });
    if (sure) { await api("DELETE", `/phonebook/${encodeURIComponent(entry.number)}`); await loadPhonebook(); }
  });
  return el("tr", {},
    el("td", { textContent: entry.number }),
    el("td", { className: "who", textContent: entry.user_name || "" }),
    el("td", { textContent: entry.network_name || "" }),
    el("td", { textContent: entry.calls }),
    el("td", { textContent: when(entry.last_seen) }),
    el("td", { className: "actions" },
      el("button", { className: "plain", textContent: "Rename", onclick: rename }),
      " ",
      el("button", { className: "danger", textContent: "Delete", onclick: remove })),
  );
}

export async function loadPhonebook() {
  const entries = await api("GET", "/phonebook");
  const filter = $("#phonebook-search").value.trim().toLowerCase();
  const shown = entries.filter((entry) =>
    !filter || `${entry.number} ${entry.user_name || ""} ${entry.network_name || ""}`.toLowerCase().includes(filter));
  $("#phonebook-table tbody").replaceChildren(...shown.map(row));
}

export function setUpPhonebook() {
  $("#phonebook-search").addEventListener("input", guarded(loadPhonebook));
  $("#phonebook-import").addEventListener("change", guarded(async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const response = await fetch("/api/phonebook.csv", { method: "POST", headers: { "X-Ringside": "1", "Content-Type": "text/csv" }, body: await file.text() });
    const result = await response.json();
    $("#phonebook-status").textContent = response.ok ? `Imported ${result.imported} ${result.imported === 1 ? "name" : "names"}.` : result.error;
    event.target.value = "";
    await loadPhonebook();
  }));
  $("#phonebook-add").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    const form = event.target;
    await api("PUT", `/phonebook/${encodeURIComponent(form.number.value.trim())}`, { name: form.name.value });
    form.reset();
    await loadPhonebook();
  }));
}
