// Filters: the ordered list, add, edit, move, delete, and the "test a number" box.
import { $, api, ask, el, guarded, visible } from "./common.js";

// Runs a change to the list, showing the console's refusal (a bad pattern) under the form.
async function change(action) {
  try {
    await action();
    $("#filter-error").textContent = "";
  } catch (error) {
    $("#filter-error").textContent = error.message;
  }
  await loadFilters();
}

async function editFilter(filter) {
  const answer = await ask({
    title: `Edit filter ${filter.position}`,
    fields: [
      { name: "action", label: "Action", value: filter.action, options: ["block", "allow", "record", "no-record"] },
      { name: "field", label: "Matches the caller's", value: filter.field, options: ["number", "number-exact", "name"] },
      { name: "pattern", label: "Pattern (a number, a prefix with *, *, anonymous for withheld, unknown for none given)", value: filter.pattern },
    ],
  });
  if (answer) await change(() => api("PUT", `/filters/${filter.id}`, answer));
}

// A filter in words: an exact-number filter says so, since its `*` is a character, not "everyone".
function words(filter) {
  return filter.field === "number-exact"
    ? `${filter.action} exactly the number ${visible(filter.pattern)}`
    : `${filter.action} ${filter.field} ${visible(filter.pattern)}`;
}

function item(filter, count) {
  const move = (position) => guarded(() => change(() => api("POST", `/filters/${filter.id}/move`, { position })));
  return el("li", { dataset: { id: filter.id } },
    el("span", { className: "rule", textContent: words(filter) }),
    el("button", { className: "plain", textContent: "Edit", onclick: guarded(() => editFilter(filter)) }),
    el("button", { className: "plain", textContent: "↑", title: "Move up", disabled: filter.position === 1, onclick: move(filter.position - 1) }),
    el("button", { className: "plain", textContent: "↓", title: "Move down", disabled: filter.position === count, onclick: move(filter.position + 1) }),
    el("button", { className: "danger", textContent: "Delete", onclick: guarded(() => change(() => api("DELETE", `/filters/${filter.id}`))) }),
  );
}

export async function loadFilters() {
  const filters = await api("GET", "/filters");
  $("#filter-list").replaceChildren(...filters.map((filter) => item(filter, filters.length)));
  if (filters.length === 0) $("#filter-list").append(el("li", { className: "empty", textContent: "No filters: every call rings." }));
}

// What the filters decide for a caller, naming the deciding filters and outlining them.
async function test(event) {
  event.preventDefault();
  const form = event.target;
  const verdict = await api("POST", "/filters/test", { number: form.number.value, name: form.name.value || null });
  const rule = (id) => {
    const found = document.querySelector(`#filter-list li[data-id="${id}"]`);
    return found ? found.querySelector(".rule").textContent : "";
  };
  const ring = verdict.block_position
    ? `${verdict.blocked ? "Blocked" : "Rings"} — filter ${verdict.block_position}: ${rule(verdict.block_filter)}.`
    : "Rings — no allow or block filter matches.";
  const record = verdict.record_position
    ? `${verdict.recorded ? "Recorded" : "Not recorded"} — filter ${verdict.record_position}: ${rule(verdict.record_filter)}.`
    : `${verdict.recorded ? "Recorded" : "Not recorded"} — no record filter matches, so the setting decides.`;
  $("#filter-verdict").textContent = `${ring} ${record}`;
  for (const found of document.querySelectorAll("#filter-list li[data-id]")) {
    found.classList.toggle("decides", [String(verdict.block_filter), String(verdict.record_filter)].includes(found.dataset.id));
  }
}

export function setUpFilters() {
  $("#filter-add").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    const form = event.target;
    await change(async () => {
      await api("POST", "/filters", { pattern: form.pattern.value, field: form.field.value, action: form.action.value });
      form.pattern.value = "";
    });
  }));
  $("#filter-test").addEventListener("submit", guarded(test));
}
