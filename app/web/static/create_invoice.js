// The create-invoice dialog: lines, live total, submit, and errors next to the fields they concern.
// Amounts are typed in major units (12.50) and sent in the currency's minor unit (1250), using
// Stripe's decimals per currency (JPY has none, KWD three) as the server reports them.
(function () {
  "use strict";

  const ctx = JSON.parse(document.getElementById("invoice-context").textContent);
  const form = document.getElementById("invoice-form");
  const body = document.getElementById("lines-body");
  const totalOut = document.getElementById("total");
  const formError = document.getElementById("form-error");
  const zeroDecimal = new Set(ctx.currency_decimals.zero);
  const threeDecimal = new Set(ctx.currency_decimals.three);
  const catalog = new Map(ctx.catalog.map((p) => [p.price_id, p]));
  const commonCurrencies = ["usd", "eur", "gbp", "cad", "aud", "chf", "jpy", "sek", "nok", "dkk", "inr"];
  let rowSeq = 0;

  const exponent = (currency) => (zeroDecimal.has(currency) ? 0 : threeDecimal.has(currency) ? 3 : 2);

  function formatAmount(minor, currency) {
    const exp = exponent(currency);
    const major = minor / 10 ** exp;
    try {
      return new Intl.NumberFormat(undefined, {
        style: "currency", currency: currency.toUpperCase(),
        minimumFractionDigits: exp, maximumFractionDigits: exp,
      }).format(major);
    } catch (_) {
      return `${currency.toUpperCase()} ${major.toFixed(exp)}`;
    }
  }

  // "12.5" USD -> 1250; null when the text is not an amount this currency can hold.
  function toMinor(text, currency) {
    const match = /^\s*(\d{1,9})(?:[.,](\d*))?\s*$/.exec(text || "");
    if (!match) return null;
    const exp = exponent(currency);
    const fraction = match[2] || "";
    if (fraction.length > exp) return null;
    return parseInt(match[1], 10) * 10 ** exp + (fraction ? parseInt(fraction.padEnd(exp, "0"), 10) : 0);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  const rows = () => Array.from(body.querySelectorAll("tr"));
  const invoiceCurrency = () => {
    const first = rows()[0];
    return first ? lineCurrency(first) : ctx.default_currency;
  };

  function lineCurrency(tr) {
    if (tr.dataset.kind === "catalog") return catalog.get(tr.dataset.priceId).currency;
    return tr.querySelector('[data-field="currency"]').value;
  }

  function quantityInput(id) {
    return el("input", { type: "number", min: "1", max: String(ctx.limits.max_quantity), step: "1", value: "1",
      inputmode: "numeric", required: true, dataset: { field: "quantity" }, "aria-describedby": `line-${id}-error` });
  }

  function currencySelect(id) {
    const current = invoiceCurrency();
    const codes = [...new Set([current, ctx.default_currency, ...ctx.catalog.map((p) => p.currency), ...commonCurrencies])];
    const select = el("select", { dataset: { field: "currency" }, "aria-describedby": `line-${id}-error` });
    for (const code of codes) select.append(el("option", { value: code, selected: code === current }, code.toUpperCase()));
    return select;
  }

  function addRow(kind, priceId) {
    const id = ++rowSeq;
    const error = el("p", { id: `line-${id}-error`, class: "field-error", hidden: true });
    const tr = el("tr", { dataset: { kind, row: String(id) } });
    let first;
    if (kind === "catalog") {
      const price = catalog.get(priceId);
      tr.dataset.priceId = priceId;
      first = el("td", {}, el("span", { class: "item-name", dataset: { field: "price_id" }, tabindex: "-1" }, price.product_name), error);
      tr.append(first, el("td", {}, price.display), el("td", {}, price.currency.toUpperCase()));
    } else {
      const description = el("input", { type: "text", maxlength: String(ctx.limits.max_description), required: true,
        placeholder: "What is being billed", dataset: { field: "description" }, "aria-describedby": `line-${id}-error` });
      const unit = el("input", { type: "text", inputmode: "decimal", required: true, placeholder: "0.00",
        class: "num", dataset: { field: "unit_amount" }, "aria-describedby": `line-${id}-error` });
      first = el("td", {}, description, error);
      tr.append(first, el("td", {}, unit), el("td", {}, currencySelect(id)));
    }
    const remove = el("button", { type: "button", class: "link remove" }, "Remove");
    remove.addEventListener("click", () => {
      tr.remove();
      refresh();
      (document.getElementById("add-custom")).focus();
    });
    tr.append(el("td", {}, quantityInput(id)), el("td", { class: "num amount" }, "—"), el("td", {}, remove));
    body.append(tr);
    refresh();
    const focusable = tr.querySelector("input");
    if (focusable) focusable.focus();
  }

  // Accessible names carry the line number, so they are renumbered after every change.
  function refresh() {
    rows().forEach((tr, index) => {
      const n = index + 1;
      for (const input of tr.querySelectorAll("[data-field]")) {
        const label = { description: "Description", unit_amount: "Unit price", currency: "Currency",
          quantity: "Quantity", price_id: "Catalog item" }[input.dataset.field];
        input.setAttribute("aria-label", `${label}, line ${n}`);
      }
      tr.querySelector("button.remove").setAttribute("aria-label", `Remove line ${n}`);
    });
    document.getElementById("lines-empty").hidden = rows().length > 0;
    updateTotal();
  }

  function lineAmount(tr) {
    const quantity = parseInt(tr.querySelector('[data-field="quantity"]').value, 10);
    if (!Number.isInteger(quantity) || quantity < 1) return null;
    const currency = lineCurrency(tr);
    const unit = tr.dataset.kind === "catalog"
      ? catalog.get(tr.dataset.priceId).unit_amount
      : toMinor(tr.querySelector('[data-field="unit_amount"]').value, currency);
    return unit === null ? null : unit * quantity;
  }

  function updateTotal() {
    const currencies = new Set();
    let total = 0;
    let complete = true;
    for (const tr of rows()) {
      const currency = lineCurrency(tr);
      const amount = lineAmount(tr);
      currencies.add(currency);
      tr.querySelector(".amount").textContent = amount === null ? "—" : formatAmount(amount, currency);
      if (amount === null) complete = false;
      else total += amount;
    }
    totalOut.classList.toggle("error", currencies.size > 1);
    if (currencies.size > 1) totalOut.textContent = "Lines use different currencies";
    else if (!rows().length) totalOut.textContent = "—";
    else totalOut.textContent = formatAmount(total, [...currencies][0]) + (complete ? "" : " so far");
  }

  // -- errors ---------------------------------------------------------------------------------

  function clearErrors() {
    formError.hidden = true;
    formError.textContent = "";
    for (const node of form.querySelectorAll(".field-error")) { node.hidden = true; node.textContent = ""; }
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function fieldError(target, messageNode, message) {
    if (target) target.setAttribute("aria-invalid", "true");
    if (messageNode) {
      messageNode.textContent = messageNode.textContent ? `${messageNode.textContent}; ${message}` : message;
      messageNode.hidden = false;
    }
    return target;
  }

  // Server field keys: "line_items.2.unit_amount", "line_items", "due_date", "person_record_id".
  function showFieldErrors(fields) {
    const focusables = [];
    for (const [key, message] of Object.entries(fields || {})) {
      const line = /^line_items\.(\d+)(?:\.(\w+))?$/.exec(key);
      if (line) {
        const tr = rows()[parseInt(line[1], 10)];
        if (!tr) continue;
        const target = tr.querySelector(`[data-field="${line[2] || ""}"]`) || tr.querySelector("[data-field]");
        focusables.push(fieldError(target, tr.querySelector(".field-error"), `${line[2] ? line[2].replace("_", " ") + ": " : ""}${message}`));
      } else if (key === "line_items") {
        focusables.push(fieldError(document.getElementById("add-custom"), document.getElementById("lines-error"), message));
      } else if (key === "due_date") {
        focusables.push(fieldError(document.getElementById("due-date"), document.getElementById("due-date-error"), message));
      } else if (key === "person_record_id" || key === "record_id") {
        focusables.push(fieldError(document.getElementById("recipient"), document.getElementById("recipient-error"), message));
      }
    }
    return focusables.find(Boolean);
  }

  function showError(message, fields) {
    formError.textContent = message;
    formError.hidden = false;
    const first = showFieldErrors(fields);
    (first || formError).focus();
  }

  // -- submit -----------------------------------------------------------------------------------

  function collect() {
    const fields = {};
    const lineItems = rows().map((tr, index) => {
      const quantity = Number(tr.querySelector('[data-field="quantity"]').value);
      if (!Number.isInteger(quantity) || quantity < 1) fields[`line_items.${index}.quantity`] = "enter a whole number of at least 1";
      if (tr.dataset.kind === "catalog") return { price_id: tr.dataset.priceId, quantity };
      const currency = lineCurrency(tr);
      const description = tr.querySelector('[data-field="description"]').value.trim();
      const unitAmount = toMinor(tr.querySelector('[data-field="unit_amount"]').value, currency);
      if (!description) fields[`line_items.${index}.description`] = "describe what is being billed";
      if (unitAmount === null || unitAmount < 1) {
        fields[`line_items.${index}.unit_amount`] = exponent(currency) === 0
          ? `enter a whole amount such as 500 (${currency.toUpperCase()} has no decimals)`
          : `enter an amount such as 12.50 (at most ${exponent(currency)} decimals)`;
      }
      return { description, unit_amount: unitAmount, currency, quantity };
    });
    if (!lineItems.length) fields.line_items = "add at least one line";
    const dueDate = document.getElementById("due-date").value;
    if (!dueDate) fields.due_date = "pick a due date";
    if (Object.keys(fields).length) {
      showError("Some fields need fixing before the invoice can be created.", fields);
      return null;
    }
    const payload = { object: ctx.object, record_id: ctx.record.id, line_items: lineItems, due_date: dueDate };
    const recipient = document.getElementById("recipient");
    if (ctx.object === "companies" && recipient) payload.person_record_id = recipient.value;
    return payload;
  }

  function setBusy(busy, text) {
    for (const button of form.querySelectorAll("button")) button.disabled = busy || (button.type === "submit" && !ctx.stripe_connected) || button.hasAttribute("data-never");
    form.setAttribute("aria-busy", busy ? "true" : "false");
    document.getElementById("busy").textContent = text || "";
  }

  // The filled-in form stays in view, read-only, under the result.
  function showResult(result) {
    for (const control of form.querySelectorAll("input, select, button")) control.disabled = true;
    form.classList.add("done");
    const section = document.getElementById("result");
    document.getElementById("result-number").textContent = result.number || result.invoice_id;
    const emailed = result.email_sent ? `emailed to ${result.customer_email}` : "not emailed";
    document.getElementById("result-summary").textContent =
      `${result.status === "open" ? "Open" : result.status}, ${result.amount_due_display}, ${emailed}.`;
    const link = document.getElementById("result-url");
    link.href = result.hosted_invoice_url || "#";
    document.getElementById("result-url-text").textContent = result.hosted_invoice_url || "";
    document.getElementById("result-note").textContent = [result.email_error, result.crm_sync_error].filter(Boolean).join(" ");
    section.hidden = false;
    section.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submitter = event.submitter;
    if (!submitter || !["finalize", "finalize-email"].includes(submitter.id)) return;
    clearErrors();
    const payload = collect();
    if (!payload) return;
    payload.send_email = submitter.id === "finalize-email";
    setBusy(true, payload.send_email ? "Creating and emailing the invoice…" : "Creating the invoice…");
    let result;
    try {
      result = await window.api("POST", "/api/actions/create-invoice", payload);
    } catch (err) {
      setBusy(false);
      showError(err.message, err.fields);
      return;
    }
    document.getElementById("busy").textContent = "";
    showResult(result);
  });

  body.addEventListener("input", updateTotal);
  body.addEventListener("change", updateTotal);
  document.getElementById("add-custom").addEventListener("click", () => addRow("custom"));
  document.getElementById("add-catalog").addEventListener("click", () => {
    const select = document.getElementById("catalog-price");
    if (catalog.has(select.value)) addRow("catalog", select.value);
  });
  document.getElementById("another").addEventListener("click", () => window.location.reload());
  refresh();
})();
