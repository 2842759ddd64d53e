// Shared helpers for the pages: JSON calls carrying the session's CSRF token, and error text.
// A failed call throws an Error whose message is the server's user-facing message (never a trace);
// `status`, `code`, `fields` and the parsed body (`data`) ride along for callers that need them.
window.api = async function api(method, path, body) {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    const err = new Error("Could not reach the server. Check your connection and try again.");
    err.status = 0;
    err.fields = {};
    throw err;
  }
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    let message = data?.error?.message || `The request failed (HTTP ${res.status}).`;
    if (res.status === 401) message = "Your session has ended. Reload the page and sign in again.";
    const err = new Error(message);
    err.status = res.status;
    err.code = data?.error?.code || null;
    err.fields = data?.error?.fields || {};
    err.data = data;
    throw err;
  }
  return data;
};
