"""manifest.json's blocks are generated from the registry; any drift fails here."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from app.store.workspaces import CreatedWorkspace
from blocks.manifest import MANIFEST_PATH, build_manifest, main, render
from blocks.registry import BLOCKS
from tests.conftest import bearer

CONTRACT_IDS = {
    "stripe.invoice_finalized", "stripe.invoice_paid", "stripe.invoice_payment_failed", "stripe.invoice_voided",
    "stripe.create_customer", "stripe.create_invoice", "stripe.update_invoice_status",
}


def test_manifest_json_matches_the_registry() -> None:
    current = json.loads(MANIFEST_PATH.read_text())
    assert current == build_manifest(current), "manifest.json drifted: run `python -m blocks.manifest --write`"
    assert main([]) == 0


def test_manifest_keeps_its_other_keys_and_lists_every_block(tmp_path: Path) -> None:
    current = json.loads(MANIFEST_PATH.read_text())
    for key in ("record_actions", "settings_schema", "webhook"):
        assert key in current
    entries = {b["id"]: b for b in current["blocks"]}
    assert CONTRACT_IDS <= set(entries) and set(entries) == set(BLOCKS)
    for entry in entries.values():
        assert entry["kind"] in ("trigger", "step") and entry["title"]
        assert entry["config_schema"]["type"] == "object" and entry["outcome_schema"]["type"] == "object"
    assert entries["stripe.update_invoice_status"]["config_schema"]["properties"]["action"]["enum"] == [
        "finalize", "send", "pay", "void", "mark_uncollectible"]
    assert "invoice" in entries["stripe.invoice_paid"]["outcome_schema"]["properties"]

    stale = tmp_path / "manifest.json"
    stale.write_text(render({**current, "blocks": [{"id": "stripe.invoice_paid", "kind": "trigger"}]}))
    assert main(["--path", str(stale)]) == 1
    assert main(["--path", str(stale), "--write"]) == 0
    assert json.loads(stale.read_text()) == current


async def test_blocks_endpoint_lists_the_registry(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    response = await client.get("/api/blocks", headers=bearer(workspace.operator_token))
    assert response.status_code == 200
    assert [b["id"] for b in response.json()["data"]] == list(BLOCKS)
    assert (await client.get("/api/blocks")).status_code == 401
