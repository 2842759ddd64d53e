// The embedded CRM's pages: the "Sync Stripe Invoices" action (started, then followed to the end)
// and the small create forms.
// Both POST JSON with the page session's CSRF token (from <meta name="csrf-token">).
(() => {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch { /* not JSON */ }
    return { ok: response.ok, status: response.status, data };
  }

  const errorText = (res) => res.data?.error?.message || `The request failed (HTTP ${res.status}).`;

  function show(status, text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let data = {};
    try { data = await response.json(); } catch { /* not JSON */ }
    return { ok: response.ok, status: response.status, data };
  }

  // Follow a backfill until it ends, saying how far it got (the job's state lives on the server,
  // so leaving the page loses nothing).
  async function follow(jobId, status) {
    for (;;) {
      const res = await getJson(`/api/jobs/${encodeURIComponent(jobId)}`);
      if (!res.ok) { show(status, errorText(res), true); return; }
      const job = res.data;
      const c = job.counts || {};
      if (job.status === "succeeded") {
        show(status, `Invoice sync finished: ${c.seen ?? 0} invoices read, ${c.created ?? 0} new, ${c.updated ?? 0} updated. ` +
          "Reload the page to see this record's invoices.", false);
        return;
      }
      if (job.status === "failed") {
        show(status, `The invoice sync stopped: ${job.error || "unknown error"} Start it again to resume.`, true);
        return;
      }
      show(status, job.status === "queued" ? "Invoice sync queued…" : `Syncing invoices… ${c.seen ?? 0} so far.`, false);
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }

  for (const button of document.querySelectorAll("[data-sync-invoices]")) {
    button.addEventListener("click", async () => {
      const status = document.getElementById("action-status");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      show(status, "Starting the invoice sync…", false);
      try {
        const res = await postJson("/api/actions/sync-invoices", {
          object: button.dataset.object, record_id: button.dataset.recordId,
        });
        if (res.ok) {
          show(status, res.data.already_running ? "An invoice sync is already running; following it." : "Invoice sync started.", false);
          await follow(res.data.job_id, status);
        } else {
          show(status, errorText(res), true);
        }
      } catch (err) {
        show(status, "Could not reach the server. Check your connection and try again.", true);
      } finally {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.focus();
      }
    });
  }

  for (const form of document.querySelectorAll("form[data-api]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = form.querySelector("[role=status]");
      const body = {};
      for (const el of form.elements) {
        if (!el.name) continue;
        if (el.type === "checkbox") body[el.name] = el.checked;
        else if (el.value.trim() !== "") body[el.name] = el.value.trim();
      }
      try {
        const res = await postJson(form.dataset.api, body);
        if (res.ok) {
          window.location.assign(form.dataset.next + encodeURIComponent(res.data.id));
        } else {
          show(status, errorText(res), true);
        }
      } catch (err) {
        show(status, "Could not reach the server. Check your connection and try again.", true);
      }
    });
  }
})();
