// The settings panel. Every action calls the JSON API (window.api, with the CSRF header), then
// re-reads this page and swaps in the parts marked data-refresh, so the server stays the one place
// that renders health. Messages go to live regions; focus moves to what the action changed.
(() => {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const POLL_MS = 600;

  // -- small helpers --------------------------------------------------------------------------

  function say(target, text, kind) {
    const el = typeof target === "string" ? byId(target) : target;
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", kind === "error");
    el.classList.toggle("ok", kind === "ok");
    el.classList.toggle("warn", kind === "warn");
  }

  function focusOn(id) {
    const el = byId(id);
    if (!el) return;
    if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
  }

  async function busy(button, label, work) {
    const before = button.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (label) button.textContent = label;
    try {
      return await work();
    } finally {
      if (button.isConnected) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        if (label) button.textContent = before;
      }
    }
  }

  // Re-read the page and replace each [data-refresh] part. Keeps focus on an element that survives
  // by id; otherwise the caller moves it.
  async function refresh() {
    const focusedId = document.activeElement?.id;
    let res;
    try {
      res = await fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
    } catch (_) {
      return false;
    }
    if (!res.ok) return false;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    for (const part of document.querySelectorAll("[data-refresh]")) {
      const fresh = doc.getElementById(part.id);
      if (fresh) part.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
    }
    if (focusedId && document.activeElement === document.body) byId(focusedId)?.focus();
    return true;
  }

  // -- connect / reconnect / disconnect -------------------------------------------------------

  function connectedMessage(result) {
    const missing = result.missing_permissions || [];
    const where = result.account ? `account ${result.account}` : "Stripe";
    if (!missing.length) return [`Connected to ${where} with every permission the app needs.`, "ok"];
    const n = missing.length;
    return [`Connected to ${where}, but the key lacks ${n} permission${n === 1 ? "" : "s"}: ${missing.join(", ")}.`, "warn"];
  }

  function afterConnect(result) {
    return (result.missing_permissions || []).length ? "permissions-banner" : "connection-title";
  }

  const connectForm = byId("connect-form");
  const keyInput = byId("stripe-key");
  const keyError = byId("stripe-key-error");

  function keyProblem(message) {
    keyError.textContent = message;
    keyError.hidden = !message;
    if (message) keyInput.setAttribute("aria-invalid", "true");
    else keyInput.removeAttribute("aria-invalid");
  }

  connectForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = connectForm.querySelector('button[type="submit"]');
    const key = keyInput.value.trim();
    const mode = connectForm.querySelector('input[name="mode"]:checked')?.value || "sandbox";
    keyProblem("");
    say("connect-status", "");
    if (!key) {
      keyProblem("Paste a Stripe secret key (sk_…) or restricted key (rk_…).");
      keyInput.focus();
      return;
    }
    const result = await busy(button, "Checking the key…", async () => {
      try {
        return await window.api("PUT", "/api/connection", { stripe_api_key: key, mode });
      } catch (err) {
        keyProblem(err.message);
        return null;
      }
    });
    if (!result) {
      keyInput.focus();
      return;
    }
    keyInput.value = "";  // the key never stays in the page
    await refresh();
    byId("connect-title").textContent = "Replace the key";
    button.textContent = "Connect the new key";
    const [text, kind] = connectedMessage(result);
    say("connect-status", text, kind);
    focusOn(afterConnect(result));
  });

  async function reconnect(button) {
    const status = button.dataset.status || "connection-action-status";
    await busy(button, "Checking…", async () => {
      try {
        const result = await window.api("POST", "/settings/reconnect");
        await refresh();
        byId("sync-reconnect")?.setAttribute("hidden", "");
        const [text, kind] = connectedMessage(result);
        const webhook = result.webhook || {};
        const extra = webhook.registered ? " The webhook endpoint is registered." : "";
        const target = byId(status) ? status : "connect-status";
        say(target, text + extra, kind);
        // Missing permissions: to the banner that lists them; otherwise stay where the admin was.
        focusOn((result.missing_permissions || []).length ? "permissions-banner" : target);
      } catch (err) {
        say(byId(status) ? status : "connect-status", err.message, "error");
        focusOn(byId(status) ? status : "connect-status");
      }
    });
  }

  function askDisconnect(button, open) {
    const box = byId("disconnect-confirm");
    if (!box) return;
    box.hidden = !open;
    document.querySelector('[data-action="disconnect-ask"]')?.setAttribute("aria-expanded", String(open));
    if (open) box.querySelector('[data-action="disconnect"]')?.focus();
    else document.querySelector('[data-action="disconnect-ask"]')?.focus();
  }

  async function disconnect(button) {
    await busy(button, "Disconnecting…", async () => {
      try {
        await window.api("DELETE", "/api/connection");
        await refresh();
        byId("connect-title").textContent = "Connect a Stripe key";
        connectForm.querySelector('button[type="submit"]').textContent = "Connect";
        say("connect-status", "Disconnected: the webhook endpoint was deleted from Stripe and the key erased.", "ok");
        keyInput.focus();
      } catch (err) {
        say("connection-action-status", err.message, "error");
        focusOn("connection-action-status");
      }
    });
  }

  // -- webhook --------------------------------------------------------------------------------

  async function retryFailed(button) {
    await busy(button, "Retrying…", async () => {
      try {
        const result = await window.api("POST", "/api/sync/retry-failed");
        await refresh();
        const n = result.requeued || 0;
        say("webhook-status", n ? `${n} failed event${n === 1 ? " was" : "s were"} queued again.` : "There are no failed events to retry.", "ok");
      } catch (err) {
        say("webhook-status", err.message, "error");
      }
    });
  }

  // -- toggles --------------------------------------------------------------------------------

  function syncMessage(enabled, webhook) {
    const reconnectBox = byId("sync-reconnect");
    reconnectBox.hidden = true;
    if (!webhook) return [enabled ? "Sync is on." : "Sync is off (send-only mode).", "ok"];
    if (webhook.needs_reconnect) {
      byId("sync-reconnect-message").textContent = webhook.message || "The webhook could not be registered.";
      reconnectBox.hidden = false;
      return ["Sync is on, but the webhook endpoint could not be registered.", "error"];
    }
    if (enabled) {
      return webhook.registered
        ? ["Sync is on. The webhook endpoint is registered in Stripe again.", "ok"]
        : [webhook.message || "Sync is on; the webhook endpoint is not registered.", "warn"];
    }
    return webhook.registered
      ? ["Sync is off. The webhook endpoint stays because a workflow trigger uses it.", "ok"]
      : ["Sync is off (send-only mode). The webhook endpoint was removed from Stripe.", "ok"];
  }

  async function toggle(input) {
    const name = input.dataset.setting;
    const wanted = input.checked;
    input.disabled = true;
    say("sync-status", "Saving…");
    try {
      const result = await window.api("PATCH", "/api/settings", { [name]: wanted });
      await refresh();
      if (name === "sync_enabled") {
        const [text, kind] = syncMessage(wanted, result.webhook);
        say("sync-status", text, kind);
        if (!byId("sync-reconnect").hidden) byId("sync-reconnect").querySelector("button")?.focus();
      } else {
        say("sync-status", wanted ? "Unknown customers become new people." : "Unknown customers are no longer added as people.", "ok");
      }
    } catch (err) {
      input.checked = !wanted;
      say("sync-status", err.message, "error");
    } finally {
      input.disabled = false;
      if (document.activeElement === document.body) input.focus();
    }
  }

  for (const input of document.querySelectorAll("input[data-setting]")) {
    input.addEventListener("change", () => toggle(input));
  }

  // -- schema mapping -------------------------------------------------------------------------

  const mappingForm = byId("mapping-form");
  const slugInputs = () => Array.from(mappingForm.querySelectorAll("input[name]"));
  const slugRe = /^[a-z][a-z0-9_]{0,62}$/;

  function slugProblem(input, message) {
    const el = byId(`${input.id}-error`);
    if (el) { el.textContent = message || ""; el.hidden = !message; }
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function mappingProblem(message) {
    const box = byId("mapping-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function checkSlugs() {
    const title = (input) => byId(`${input.id}-title`)?.textContent || input.name;
    const users = new Map();  // slug -> the field inputs using it (the object slug is separate)
    for (const input of slugInputs()) {
      if (input.name === "object_slug") continue;
      const value = input.value.trim();
      users.set(value, [...(users.get(value) || []), input]);
    }
    let first = null;
    for (const input of slugInputs()) {
      const value = input.value.trim();
      let problem = "";
      if (!slugRe.test(value)) {
        problem = "Use lowercase letters, digits and _, starting with a letter (at most 63).";
      } else if (input.name !== "object_slug" && users.get(value).length > 1) {
        problem = `Already used for ${users.get(value).filter((other) => other !== input).map(title).join(", ")}.`;
      }
      slugProblem(input, problem);
      if (problem && !first) first = input;
    }
    return first;
  }

  function describeReport(report) {
    const counts = {};
    for (const a of report.attributes || []) counts[a.status] = (counts[a.status] || 0) + 1;
    const parts = [];
    for (const [status, label] of [["created", "created"], ["present", "already present"], ["conflict", "in conflict"]]) {
      if (counts[status]) parts.push(`${counts[status]} ${label}`);
    }
    return `Object ${report.object_slug} ${report.object_status === "created" ? "created" : "reused"}; attributes: ${parts.join(", ")}.`;
  }

  mappingForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    mappingProblem("");
    say("mapping-status", "");
    const invalid = checkSlugs();
    if (invalid) {
      mappingProblem("Some slugs need fixing before the schema can be set up.");
      invalid.focus();
      return;
    }
    const schema = {};
    for (const input of slugInputs()) schema[input.name] = input.value.trim();
    const button = mappingForm.querySelector('button[type="submit"]');
    await busy(button, "Setting up…", async () => {
      try {
        const report = await window.api("POST", "/api/schema/setup", { schema });
        await refresh();
        say("mapping-status", `Saved. ${describeReport(report)}`, "ok");
        focusOn("mapping-status");
      } catch (err) {
        await handleMappingError(err);
      }
    });
  });

  async function handleMappingError(err) {
    if (err.status === 409 && err.data && Array.isArray(err.data.attributes)) {
      // Saved, but some slugs exist in the CRM with another type: mark them.
      await refresh();
      let first = null;
      for (const a of err.data.attributes.filter((x) => x.status === "conflict")) {
        const input = byId(`map-${a.field}`);
        if (!input) continue;
        slugProblem(input, `Conflict: ${a.detail || "an attribute with this slug cannot hold this field"}. Pick another slug.`);
        first = first || input;
      }
      mappingProblem(`The mapping was saved, but some attributes conflict. ${describeReport(err.data)}`);
      (first || byId("mapping-error")).focus();
      return;
    }
    let first = null;
    for (const [field, message] of Object.entries(err.fields || {})) {
      const key = field.replace(/^schema\.?/, "");
      const input = key ? byId(`map-${key}`) : null;
      if (input) { slugProblem(input, message); first = first || input; }
    }
    mappingProblem(err.message);
    (first || byId("mapping-error")).focus();
  }

  function resetMapping() {
    for (const input of slugInputs()) {
      input.value = input.dataset.default;
      slugProblem(input, "");
    }
    mappingProblem("");
    say("mapping-status", "Default slugs filled in. Save and set up schema to apply them.");
  }

  // -- backfill -------------------------------------------------------------------------------

  const panel = byId("backfill-panel");
  const startButton = byId("backfill-start");
  let polling = null;

  function showJob(job) {
    const bar = byId("backfill-bar");
    const fill = bar.querySelector(".progress-fill");
    const counts = job.counts || {};
    byId("backfill-progress").hidden = false;
    for (const key of ["seen", "created", "updated", "unchanged", "unmatched"]) {
      byId(`backfill-${key}`).textContent = String(counts[key] ?? 0);
    }
    byId("backfill-rate").textContent = job.rate_per_s ? `${job.rate_per_s}/s` : "—";
    const active = job.status === "queued" || job.status === "running";
    bar.classList.toggle("indeterminate", active);
    bar.classList.toggle("failed", job.status === "failed");
    let text;
    if (job.status === "succeeded") {
      bar.setAttribute("aria-valuenow", "100");
      bar.setAttribute("aria-valuetext", "100%");
      fill.style.width = "100%";
      text = `100% · ${counts.seen ?? 0} invoices imported`;
    } else {
      bar.removeAttribute("aria-valuenow");
      fill.style.width = "0%";
      text = job.status === "failed" ? `Stopped after ${counts.seen ?? 0} invoices: ${job.error || "unknown error"}`
        : job.status === "queued" ? "Waiting to start…" : `${counts.seen ?? 0} invoices so far…`;
      bar.setAttribute("aria-valuetext", job.status === "failed" ? "stopped" : `${counts.seen ?? 0} invoices so far`);
    }
    byId("backfill-text").textContent = text;
    panel.dataset.jobActive = String(active);
    if (active) {
      startButton.setAttribute("aria-disabled", "true");
      startButton.textContent = "Syncing…";
    } else {
      startButton.removeAttribute("aria-disabled");
      startButton.textContent = job.status === "failed" ? "Resume the sync" : "Sync Stripe invoices now";
    }
  }

  async function poll(jobId) {
    if (polling === jobId) return;
    polling = jobId;
    panel.dataset.jobId = jobId;
    let failures = 0;
    while (polling === jobId) {
      try {
        const job = await window.api("GET", `/api/jobs/${encodeURIComponent(jobId)}`);
        failures = 0;
        showJob(job);
        if (job.status === "succeeded" || job.status === "failed") {
          polling = null;
          say("backfill-status", job.status === "succeeded"
            ? `Done: ${job.counts.created} created, ${job.counts.updated} updated, ${job.counts.unchanged} unchanged.`
            : `The sync stopped: ${job.error || "unknown error"}. Resume it to continue from where it stopped.`,
          job.status === "succeeded" ? "ok" : "error");
          await refresh();
          return;
        }
      } catch (err) {
        failures += 1;
        if (err.status === 401 || err.status === 403 || err.status === 404) {
          polling = null;
          say("backfill-status", err.message, "error");
          return;
        }
        say("backfill-status", `${err.message} Retrying…`, "error");
      }
      await new Promise((r) => setTimeout(r, failures ? Math.min(5000, POLL_MS * 2 ** failures) : POLL_MS));
    }
  }

  async function startBackfill(button) {
    if (button.getAttribute("aria-disabled") === "true") {
      say("backfill-status", "A sync is already running; its progress is shown below.");
      return;
    }
    say("backfill-status", "Starting…");
    try {
      const started = await window.api("POST", "/api/actions/sync-invoices");
      say("backfill-status", started.already_running ? "A sync was already running; showing its progress." : "Sync started.");
      showJob({ status: "queued", counts: {} });
      poll(started.job_id);
    } catch (err) {
      say("backfill-status", err.message, "error");
    }
  }

  // Survives a reload: a running job found on load is followed again.
  if (panel && panel.dataset.jobActive === "true" && panel.dataset.jobId) {
    poll(panel.dataset.jobId);
  }

  // -- one click handler for every [data-action], including buttons swapped in by refresh() ----

  const actions = {
    reconnect,
    disconnect,
    "disconnect-ask": (b) => askDisconnect(b, true),
    "disconnect-cancel": (b) => askDisconnect(b, false),
    "retry-failed": retryFailed,
    "mapping-defaults": resetMapping,
    backfill: startBackfill,
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !actions[button.dataset.action]) return;
    event.preventDefault();
    actions[button.dataset.action](button);
  });
})();
