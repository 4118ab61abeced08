// What the call log and the phonebook do to a caller: name them, block them.
import { api, ask, notice } from "./common.js";

// Asks for a name and stores it; whether the phonebook changed.
export async function nameNumber(number, suggestion) {
  const answer = await ask({ title: `Name for ${number}`, fields: [{ name: "name", label: "Name", value: suggestion }] });
  if (!answer || !answer.name.trim()) return false;
  await api("PUT", `/phonebook/${encodeURIComponent(number)}`, { name: answer.name.trim() });
  return true;
}

// Asks, then puts a block filter for exactly this number first in the list: a caller numbered
// `*` or `1555*` is blocked alone, never taken for a pattern that blocks everyone.
export async function blockNumber(number) {
  const sure = await ask({
    title: `Block ${number}?`, message: "Its calls will go to voicemail without ringing. The filter goes first in the list.",
    confirm: "Block", danger: true,
  });
  if (!sure) return;
  await api("POST", "/filters", { pattern: number, field: "number-exact", action: "block", position: 1 });
  notice(`${number} is blocked: see Filters to undo.`, "info");
}
