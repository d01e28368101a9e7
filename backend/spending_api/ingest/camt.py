"""ISO 20022 CAMT.053 bank statements, read with defusedxml's ElementTree.

No maintained CAMT library was solid enough to pin (see docs/IMPORT_FORMATS.md); the
format is plain XML, so each booked `Ntry` is read by local element name, whatever the
schema version. CdtDbtInd DBIT is money out. The counterparty is the creditor of a debit
and the debtor of a credit; the remittance text is the note. Pending entries (PDNG) are
skipped. Bank transaction sub-family codes give kind hints (SALA salary, INTR interest,
BOOK an internal book transfer).
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from spending_api.ingest.kinds import CAMT_SUBFAMILIES, kind_hint
from spending_api.ingest.model import (
    Detection,
    ParsedFile,
    ParsedRow,
    ParseFailed,
    Problem,
    SkipLog,
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: Element, *path: str) -> Element | None:
    current = element
    for name in path:
        current = next((child for child in current if _local(child.tag) == name), None)
        if current is None:
            return None
    return current


def _text(element: Element, *path: str) -> str | None:
    found = _find(element, *path)
    return found.text.strip() if found is not None and found.text else None


def _date(entry: Element) -> tuple[datetime, bool] | None:
    for parent in ("BookgDt", "ValDt"):
        day = _text(entry, parent, "Dt")
        if day:
            return datetime.fromisoformat(day), False
        moment = _text(entry, parent, "DtTm")
        if moment:
            return datetime.fromisoformat(moment).replace(tzinfo=None), True
    return None


def read_camt(stream: BinaryIO) -> ParsedFile:
    stream.seek(0)
    rows: list[ParsedRow] = []
    problems: list[Problem] = []
    skips = SkipLog()
    number = 0
    try:
        for _, element in iterparse(stream, events=("end",)):
            if _local(element.tag) != "Ntry":
                continue
            number += 1
            row = _entry(element, number, skips, problems)
            if row is not None:
                rows.append(row)
            element.clear()
    except ParseError as error:
        raise ParseFailed(f"The CAMT.053 file is not well-formed XML: {error}.") from None
    except DefusedXmlException:
        raise ParseFailed(
            "The CAMT.053 file declares XML entities or a DTD, which are not allowed; "
            "download the statement again from the bank."
        ) from None
    if problems:
        raise ParseFailed(f"{len(problems)} entries are invalid; nothing was imported.", problems)
    if not rows:
        raise ParseFailed("The CAMT.053 file has no booked entries.")
    currencies = {row.currency for row in rows}
    detection = Detection(
        format="camt053",
        encoding="utf-8",
        amount_sign="CdtDbtInd",
        currency=currencies.pop() if len(currencies) == 1 else None,
        signature="camt053",
    )
    return ParsedFile(detection, iter(rows), skips)


def _entry(entry: Element, number: int, skips: SkipLog, problems: list) -> ParsedRow | None:
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
    if status and status.upper() != "BOOK":
        skips.add(number, f"not booked (status {status})")
        return None
    amount_element = _find(entry, "Amt")
    try:
        amount = Decimal(amount_element.text.strip())
    except (AttributeError, InvalidOperation):
        text = amount_element.text if amount_element is not None else ""
        problems.append(Problem(number, "Amt", text or "", "not a number"))
        return None
    money_in = _text(entry, "CdtDbtInd") == "CRDT"
    if amount == 0:
        skips.add(number, "zero amount")
        return None
    found = _date(entry)
    if found is None:
        problems.append(Problem(number, "BookgDt", "", "missing"))
        return None
    details = _find(entry, "NtryDtls", "TxDtls")
    counterparty = None
    remittance = None
    if details is not None:
        party = "Dbtr" if money_in else "Cdtr"
        counterparty = _text(details, "RltdPties", party, "Nm") or _text(
            details, "RltdPties", party, "Pty", "Nm"
        )
        remittance = _text(details, "RmtInf", "Ustrd")
    extra = _text(entry, "AddtlNtryInf")
    description = counterparty or remittance or extra or ""
    notes = " | ".join(t for t in (remittance, extra) if t and t != description) or None
    sub_family = _text(entry, "BkTxCd", "Domn", "Fmly", "SubFmlyCd")
    hint = CAMT_SUBFAMILIES.get(sub_family or "")
    if hint == "income" and not money_in:
        hint = None
    hint = hint or kind_hint(
        category=None, bank_type=None, texts=(description, notes), money_in=money_in
    )
    timestamp, has_time = found
    return ParsedRow(
        line=number,
        timestamp=timestamp,
        has_time=has_time,
        amount=-amount if money_in else amount,
        description=description,
        notes=notes,
        bank_type=sub_family,
        currency=amount_element.get("Ccy"),
        external_id=_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"),
        kind_hint=hint,
    )
