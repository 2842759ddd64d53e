"""The embedded CRM's JSON API (`/api/crm/...`, operator role) and its pages (`/crm/...`).

Both only exist with CRM_BACKEND=local; with another backend they answer 404 saying so. Every call
is scoped to the caller's workspace: an id from another workspace is simply not found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.crm.local.adapter import LocalCRM
from app.crm.local.people import person_from_record, record_label
from app.crm.local.schema import COMPANIES, PEOPLE
from app.crm.local.shapes import attribute_json, company_json, object_json, person_json, record_json
from app.crm.protocol import AttributeSpec, AttributeType, Company, Record
from app.errors import AppError, ErrorCode, validation_error
from app.http.auth import authenticate
from app.http.body import read_json
from app.money import format_amount, to_minor
from app.store.workspaces import Role
from app.web.templating import render as render_page
from app.web.templating import templates

_WEB = Path(__file__).resolve().parents[1] / "web"
_ASSETS = {"crm.css": "text/css", "crm.js": "text/javascript"}
_PAGE_SIZE = 50


class CompanyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    domain: str | None = Field(default=None, max_length=253)


class PersonIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    company_id: str | None = Field(default=None, max_length=40)
    main_contact: bool = False


class ObjectIn(BaseModel):
    slug: str = Field(min_length=1, max_length=63)
    singular: str = Field(min_length=1, max_length=200)
    plural: str = Field(min_length=1, max_length=200)


class AttributeIn(BaseModel):
    slug: str = Field(min_length=1, max_length=63)
    title: str = Field(min_length=1, max_length=200)
    type: AttributeType
    unique: bool = False
    options: list[str] = Field(default_factory=list, max_length=500)
    target_object: str | None = Field(default=None, max_length=63)


class ValuesIn(BaseModel):
    values: dict[str, Any]


# -- API --------------------------------------------------------------------------------------


def _local_crm(request: Request, workspace_id: str) -> LocalCRM:
    ctx = request.app.state.ctx
    crm = ctx.crm(workspace_id) if ctx.settings.crm_backend == "local" else None
    if not isinstance(crm, LocalCRM):
        raise AppError(
            ErrorCode.CRM_NOT_SUPPORTED,
            "The embedded CRM is only available with CRM_BACKEND=local; this deployment uses another CRM.",
        )
    return crm


async def _api_crm(request: Request) -> LocalCRM:
    principal = await authenticate(request, Role.OPERATOR)
    return _local_crm(request, principal.workspace_id)


def _paging(request: Request) -> tuple[int, int]:
    def number(name: str, default: int, low: int, high: int | None) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        try:
            value = int(raw)
        except ValueError:
            raise validation_error(f"{name} must be an integer {bound}.", **{name: "not an integer"}) from None
        if value < low or (high is not None and value > high):
            raise validation_error(f"{name} must be an integer {bound}.", **{name: "out of range"})
        return value

    # offset is bounded: an int past 2**63 cannot reach the database (OverflowError, a 500).
    return number("limit", 50, 1, 500), number("offset", 0, 0, 1_000_000_000)


def _not_found(what: str, record_id: str) -> AppError:
    return AppError(ErrorCode.NOT_FOUND, f"No {what} with id '{record_id}' in this workspace.")


async def create_company(request: Request) -> Response:
    crm = await _api_crm(request)
    body = await read_json(request, CompanyIn)
    company = await crm.create_company(body.name, body.domain)
    return JSONResponse(company_json(company, with_people=True), status_code=201)


async def create_person(request: Request) -> Response:
    crm = await _api_crm(request)
    body = await read_json(request, PersonIn)
    person = await crm.create_person(body.name, body.email, body.company_id, main_contact=body.main_contact)
    return JSONResponse(person_json(person), status_code=201)


async def get_person(request: Request) -> Response:
    crm = await _api_crm(request)
    record = await crm.get_record(PEOPLE, request.path_params["id"])
    if record is None:
        raise _not_found("person", request.path_params["id"])
    return JSONResponse(person_json(person_from_record(record), record.values))


async def get_company(request: Request) -> Response:
    crm = await _api_crm(request)
    company = await crm.get_company(request.path_params["id"])
    record = await crm.get_record(COMPANIES, request.path_params["id"])
    if company is None or record is None:
        raise _not_found("company", request.path_params["id"])
    return JSONResponse(company_json(company, with_people=True, values=record.values))


async def list_people(request: Request) -> Response:
    crm = await _api_crm(request)
    limit, offset = _paging(request)
    people, total = await crm.list_people(limit=limit, offset=offset)
    return JSONResponse({"data": [person_json(p) for p in people], "total": total, "limit": limit, "offset": offset})


async def list_companies(request: Request) -> Response:
    crm = await _api_crm(request)
    limit, offset = _paging(request)
    companies, total = await crm.list_companies(limit=limit, offset=offset)
    data = [company_json(c, with_people=False) for c in companies]
    return JSONResponse({"data": data, "total": total, "limit": limit, "offset": offset})


async def list_objects(request: Request) -> Response:
    crm = await _api_crm(request)
    return JSONResponse({"data": [object_json(o) for o in await crm.list_objects()]})


async def create_object(request: Request) -> Response:
    crm = await _api_crm(request)
    body = await read_json(request, ObjectIn)
    info = await crm.create_object(body.slug, body.singular, body.plural)
    return JSONResponse(object_json(info, await crm.list_attributes(info.slug)), status_code=201)


async def get_object(request: Request) -> Response:
    crm = await _api_crm(request)
    slug = request.path_params["slug"]
    info = await crm.get_object(slug)
    if info is None:
        raise AppError(ErrorCode.NOT_FOUND, f"This CRM has no object '{slug}'.")
    return JSONResponse(object_json(info, await crm.list_attributes(slug)))


async def list_attributes(request: Request) -> Response:
    crm = await _api_crm(request)
    attributes = await crm.list_attributes(request.path_params["slug"])
    return JSONResponse({"data": [attribute_json(a) for a in attributes]})


async def create_attribute(request: Request) -> Response:
    crm = await _api_crm(request)
    body = await read_json(request, AttributeIn)
    spec = AttributeSpec(body.slug, body.title, body.type, body.unique, tuple(body.options), body.target_object)
    created = await crm.create_attribute(request.path_params["slug"], spec)
    return JSONResponse(attribute_json(created), status_code=201)


async def list_records(request: Request) -> Response:
    crm = await _api_crm(request)
    limit, offset = _paging(request)
    slug = request.path_params["slug"]
    records, total = await crm.list_records(slug, limit=limit, offset=offset)
    data = [record_json(slug, r) for r in records]
    return JSONResponse({"data": data, "total": total, "limit": limit, "offset": offset})


async def create_record(request: Request) -> Response:
    crm = await _api_crm(request)
    body = await read_json(request, ValuesIn)
    slug = request.path_params["slug"]
    return JSONResponse(record_json(slug, await crm.create_record(slug, body.values)), status_code=201)


async def get_record(request: Request) -> Response:
    crm = await _api_crm(request)
    slug, record_id = request.path_params["slug"], request.path_params["id"]
    record = await crm.get_record(slug, record_id)
    if record is None:
        raise _not_found("record", record_id)
    return JSONResponse(record_json(slug, record))


async def update_record(request: Request) -> Response:
    crm = await _api_crm(request)
    body = await read_json(request, ValuesIn)
    slug = request.path_params["slug"]
    record, _ = await crm.update_record(slug, request.path_params["id"], body.values)
    return JSONResponse(record_json(slug, record))


# -- pages ------------------------------------------------------------------------------------


def record_href(object_slug: str, record_id: str) -> str:
    if object_slug in (PEOPLE, COMPANIES):
        return f"/crm/{object_slug}/{record_id}"
    return f"/crm/objects/{object_slug}/{record_id}"


def object_href(object_slug: str) -> str:
    return f"/crm/{object_slug}" if object_slug in (PEOPLE, COMPANIES) else f"/crm/objects/{object_slug}"


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    # The shared renderer (base.html's look, csrf token and principal); the CRM's link helpers are
    # globals of its environment so imported macros see them too.
    templates(request).env.globals.update(record_href=record_href, object_href=object_href)
    return render_page(request, name, status_code=status, **{"nav_objects": [], "active": None, **context})


def _message(request: Request, status: int, title: str, message: str, *, login_hint: bool = False) -> Response:
    return _render(request, "crm/message.html", {"title": title, "message": message, "login_hint": login_hint}, status)


async def _page(request: Request, render: Callable[[LocalCRM], Awaitable[Response]]) -> Response:
    """Authenticate by page session (or bearer), then render; errors become small HTML pages."""
    try:
        principal = await authenticate(request, Role.OPERATOR)
        crm = _local_crm(request, principal.workspace_id)
        return await render(crm)
    except AppError as exc:
        if exc.code is ErrorCode.UNAUTHENTICATED:
            return _message(request, 401, "Sign in to the CRM", "Your session has expired or you have not signed in yet.",
                            login_hint=True)
        return _message(request, exc.status, "Cannot show this page", exc.message)


async def _base(crm: LocalCRM, active: str | None) -> dict[str, Any]:
    return {"nav_objects": await crm.list_objects(), "active": active}


def _references(records: list[Record], attributes: list[AttributeSpec]) -> list[str]:
    refs = [a.slug for a in attributes if a.type == "record-reference"]
    return [r.values[s] for r in records for s in refs if isinstance(r.values.get(s), str)]


async def overview_page(request: Request) -> Response:
    async def render(crm: LocalCRM) -> Response:
        base = await _base(crm, "overview")
        counts = await crm.record_counts()
        cards = [(o, counts.get(o.slug, 0)) for o in base["nav_objects"]]
        return _render(request, "crm/overview.html", {**base, "cards": cards})

    return await _page(request, render)


async def object_list_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    if slug in (PEOPLE, COMPANIES):
        return RedirectResponse(object_href(slug), status_code=307)
    return await _list_page(request, slug)


async def object_record_page(request: Request) -> Response:
    slug, record_id = request.path_params["slug"], request.path_params["id"]
    if slug in (PEOPLE, COMPANIES):
        return RedirectResponse(record_href(slug, record_id), status_code=307)
    return await _record_page(request, slug)


def _for_object(page: Callable[[Request, str], Awaitable[Response]], slug: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await page(request, slug)

    return endpoint


async def _list_page(request: Request, slug: str) -> Response:
    async def render(crm: LocalCRM) -> Response:
        try:
            page = min(max(1, int(request.query_params.get("page", "1"))), 1_000_000)  # offset stays a DB int
        except ValueError:
            page = 1
        info = await crm.get_object(slug)
        if info is None:
            raise AppError(ErrorCode.NOT_FOUND, f"This CRM has no object '{slug}'.")
        attributes = await crm.list_attributes(slug)
        records, total = await crm.list_records(slug, limit=_PAGE_SIZE, offset=(page - 1) * _PAGE_SIZE)
        columns = [a for a in attributes if a.slug != "name"][:6]
        context = {
            **await _base(crm, slug), "object": info, "columns": columns, "total": total, "page": page,
            "pages": max(1, -(-total // _PAGE_SIZE)), "has_name": any(a.slug == "name" for a in attributes),
            "rows": [(r, record_label(r)) for r in records],
            "labels": await crm.record_labels(_references(records, columns)),
            "companies": (await crm.list_companies(limit=500))[0] if slug == PEOPLE else [],
        }
        return _render(request, "crm/list.html", context)

    return await _page(request, render)


async def _record_page(request: Request, slug: str) -> Response:
    record_id = request.path_params["id"]

    async def render(crm: LocalCRM) -> Response:
        info = await crm.get_object(slug)
        record = await crm.get_record(slug, record_id) if info else None
        if info is None or record is None:
            return _message(request, 404, "Record not found", f"No record '{record_id}' in this workspace's {slug}.")
        attributes = await crm.list_attributes(slug)
        company = await crm.get_company(record_id) if slug == COMPANIES else None
        context = {
            "invoices": await _invoices_of(request, crm, slug, record_id, company),
            **await _base(crm, slug), "object": info, "record": record, "label": record_label(record),
            "attributes": attributes, "company": company, "actions": slug in (PEOPLE, COMPANIES),
            "labels": await crm.record_labels(_references([record], attributes)),
        }
        return _render(request, "crm/record.html", context)

    return await _page(request, render)


async def _invoices_of(request: Request, crm: LocalCRM, slug: str, record_id: str,
                       company: Company | None) -> dict[str, Any] | None:
    """The mirrored Stripe invoices linked to this person (or to the company's people)."""
    if slug not in (PEOPLE, COMPANIES):
        return None
    from app.workspace_settings import schema_mapping_for

    mapping = await schema_mapping_for(request.app.state.ctx, crm.workspace_id)
    if await crm.get_object(mapping.object_slug) is None:
        return None
    people = [p.id for p in company.people] if company else [record_id]
    records = await crm.records_referring_to(mapping.object_slug, mapping.slug("person"), people)
    fields = mapping.field_slugs()
    rows = [{"id": r.id, "data": r.values,
             "due": _money(r.values.get(fields["amount_due"]), r.values.get(fields["currency"])),
             "paid": _money(r.values.get(fields["amount_paid"]), r.values.get(fields["currency"]))}
            for r in reversed(records)]
    return {"object": mapping.object_slug, "fields": fields, "records": rows}


def _money(amount: Any, currency: Any) -> str:
    """A stored major-unit amount shown in its currency's format ("$42.00", "¥500")."""
    if amount is None or not isinstance(currency, str):
        return "—"
    try:
        return format_amount(to_minor(str(amount), currency), currency)
    except ValueError:
        return f"{amount} {currency}"


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _ASSETS:
        raise AppError(ErrorCode.NOT_FOUND, "No such file.")
    return FileResponse(_WEB / "static" / name, media_type=_ASSETS[name], headers={"Cache-Control": "max-age=300"})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/crm/companies", create_company, methods=["POST"]),
        Route("/api/crm/companies", list_companies, methods=["GET"]),
        Route("/api/crm/companies/{id}", get_company, methods=["GET"]),
        Route("/api/crm/people", create_person, methods=["POST"]),
        Route("/api/crm/people", list_people, methods=["GET"]),
        Route("/api/crm/people/{id}", get_person, methods=["GET"]),
        Route("/api/crm/objects", list_objects, methods=["GET"]),
        Route("/api/crm/objects", create_object, methods=["POST"]),
        Route("/api/crm/objects/{slug}", get_object, methods=["GET"]),
        Route("/api/crm/objects/{slug}/attributes", list_attributes, methods=["GET"]),
        Route("/api/crm/objects/{slug}/attributes", create_attribute, methods=["POST"]),
        Route("/api/crm/objects/{slug}/records", list_records, methods=["GET"]),
        Route("/api/crm/objects/{slug}/records", create_record, methods=["POST"]),
        Route("/api/crm/objects/{slug}/records/{id}", get_record, methods=["GET"]),
        Route("/api/crm/objects/{slug}/records/{id}", update_record, methods=["PATCH"]),
        Route("/crm", overview_page, methods=["GET"]),
        Route("/crm/assets/{name}", asset, methods=["GET"]),
        Route("/crm/people", _for_object(_list_page, PEOPLE), methods=["GET"], name="crm_people"),
        Route("/crm/companies", _for_object(_list_page, COMPANIES), methods=["GET"], name="crm_companies"),
        Route("/crm/people/{id}", _for_object(_record_page, PEOPLE), methods=["GET"], name="crm_person"),
        Route("/crm/companies/{id}", _for_object(_record_page, COMPANIES), methods=["GET"], name="crm_company"),
        Route("/crm/objects/{slug}", object_list_page, methods=["GET"]),
        Route("/crm/objects/{slug}/{id}", object_record_page, methods=["GET"]),
    ]
