// Shared helpers for the pages: JSON calls carrying the session's CSRF token, and error text.
window.api = async function api(method, path, body) {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    const message = data?.error?.message || `Request failed (${res.status}).`;
    const err = new Error(message);
    err.status = res.status;
    err.fields = data?.error?.fields || {};
    throw err;
  }
  return data;
};
