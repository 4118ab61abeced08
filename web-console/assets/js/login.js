// The login page: the password for a session, then back to the page that was asked for.
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Ringside": "1" },
    body: JSON.stringify({ password: event.target.password.value }),
  });
  if (response.ok) { location.href = `/${location.hash}`; return; }
  const error = await response.json().catch(() => ({ error: response.statusText }));
  document.getElementById("login-error").textContent = error.error;
});
