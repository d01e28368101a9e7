"""ISO 20022 CAMT.053 statements read by element name, pending entries skipped."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from spending_api.ingest import ParseFailed, parse

DATA = Path(__file__).parent / "data"


def test_booked_entries_with_counterparty_reference_and_codes():
    parsed = parse((DATA / "statement.camt053.xml").read_bytes(), filename="s.xml")
    rows = list(parsed.rows())

    assert (parsed.detection.format, parsed.detection.currency) == ("camt053", "EUR")
    assert [
        (r.timestamp, r.amount, r.description, r.notes, r.external_id, r.kind_hint) for r in rows
    ] == [
        (
            datetime(2025, 2, 27),
            Decimal("-2450.00"),
            "Beispiel GmbH",
            "Gehalt Februar 2025",
            "REF-0001",
            "income",
        ),
        (
            datetime(2025, 2, 3),
            Decimal("64.90"),
            "Stadtwerke Musterstadt",
            "Abschlag Strom 02/2025",
            "REF-0002",
            None,
        ),
        (
            datetime(2025, 2, 5),
            Decimal("400.00"),
            "Umbuchung auf Tagesgeldkonto",
            None,
            "REF-0003",
            "transfer",
        ),
    ]
    assert [(s.line, s.reason) for s in parsed.skipped] == [(4, "not booked (status PDNG)")]


def test_malformed_xml_and_entity_bombs_are_refused():
    text = (DATA / "statement.camt053.xml").read_text()
    with pytest.raises(ParseFailed, match="not well-formed"):
        parse(text.replace("</Stmt>", "").encode())
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<Stmt><Ntry><AddtlNtryInf>&b;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>"
    )
    with pytest.raises(ParseFailed, match="not allowed"):
        parse(bomb.encode())
