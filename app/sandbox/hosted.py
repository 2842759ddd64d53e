"""The pages behind `hosted_invoice_url` and `invoice_pdf`, so those links resolve."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.sandbox.models import Invoice
from app.sandbox.state import EmulatorState

Endpoint = Callable[[Request], Awaitable[Response]]

ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}


def format_amount(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def _find(state: EmulatorState, invoice_id: str) -> Invoice | None:
    with state.lock:
        account_id = state.invoice_accounts.get(invoice_id)
        if account_id is None:
            return None
        invoice = state.accounts[account_id].invoices.get(invoice_id)
        return None if invoice is None or invoice.status == "draft" else invoice


def _summary(invoice: Invoice) -> tuple[str, str, str]:
    currency = invoice.currency or "usd"
    return (invoice.number or invoice.id, format_amount(invoice.total, currency), invoice.status)


def invoice_page(state: EmulatorState) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        invoice = _find(state, request.path_params["id"])
        if invoice is None:
            return HTMLResponse("<h1>Invoice not found</h1>", status_code=404)
        number, amount, status = (escape(v) for v in _summary(invoice))
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>Invoice {number}</title></head><body>"
            f"<h1>Invoice <span class='number'>{number}</span></h1>"
            f"<p>Amount due: <span class='amount'>{amount}</span></p>"
            f"<p>Status: <span class='status'>{status}</span></p>"
            "<p><small>Stripe emulator</small></p></body></html>"
        )

    return endpoint


def _pdf(text: str) -> bytes:
    """A one-page PDF showing `text`, with a correct cross-reference table."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def invoice_pdf(state: EmulatorState) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        invoice = _find(state, request.path_params["id"])
        if invoice is None:
            return Response("not found", status_code=404, media_type="text/plain")
        number, amount, status = _summary(invoice)
        return Response(_pdf(f"Invoice {number} - {amount} - {status}"),
                        media_type="application/pdf")

    return endpoint
