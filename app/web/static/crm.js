// The embedded CRM's pages: the "Sync Stripe Invoices" action and the small create forms.
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
        show(status, res.ok
          ? `Invoice sync started${res.data.job_id ? ` (job ${res.data.job_id})` : ""}. Invoices appear as they are imported.`
          : errorText(res), !res.ok);
      } catch (err) {
        show(status, "Could not reach the server. Check your connection and try again.", true);
      } finally {
        button.disabled = false;
        button.removeAttribute("aria-busy");
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
