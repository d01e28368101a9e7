"""OFX and QFX statements (1.x SGML and 2.x XML), read with ofxtools.

OFX writes money out as a negative TRNAMT; here it becomes a positive amount. FITID is
the duplicate key. TRNTYPE gives kind hints (XFER transfer; DIRECTDEP, INT, DIV income;
PAYMENT into a credit card account a card payment), then the payee and memo words do.
"""

import logging
import re
from datetime import datetime, timezone
from typing import BinaryIO

from ofxtools.Parser import OFXTree

from spending_api.ingest.kinds import OFX_TYPES, kind_hint
from spending_api.ingest.model import Detection, ParsedFile, ParsedRow, ParseFailed, SkipLog

logger = logging.getLogger(__name__)


_OFX_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")


def _wall_clock(raw: str | None, converted: datetime) -> datetime:
    """The time as the bank wrote it: ofxtools converts '20250203230000[-5:EST]' to UTC
    (the next day); the model keeps naive wall-clock times, like a CSV's."""
    match = _OFX_DATE.match((raw or "").strip())
    if match is None:
        return converted.astimezone(timezone.utc).replace(tzinfo=None)
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    return datetime(year, month, day, hour, minute, second)


def read_ofx(stream: BinaryIO, *, encoding: str) -> ParsedFile:
    stream.seek(0)
    tree = OFXTree()
    try:
        tree.parse(stream)
        ofx = tree.convert()
    except Exception as error:  # ofxtools raises many types for malformed files
        logger.info("OFX not readable: %r", error)
        raise ParseFailed(
            f"The file looks like OFX/QFX but could not be read: {error}. "
            "Download it again from the bank, or export CSV instead."
        ) from None
    raw_dates = iter(
        [
            element.findtext("DTUSER") or element.findtext("DTPOSTED")
            for element in tree.getroot().iter("STMTTRN")
        ]
    )
    rows: list[ParsedRow] = []
    skips = SkipLog()
    currencies = set()
    for statement in ofx.statements:
        card = type(statement).__name__ == "CCSTMTRS"
        currency = statement.curdef
        currencies.add(currency)
        # Investment statements (INVSTMTRS) have no bank transaction list: not read here.
        for number, transaction in enumerate(
            getattr(statement, "banktranlist", None) or [], start=1
        ):
            moment = _wall_clock(next(raw_dates, None), transaction.dtuser or transaction.dtposted)
            amount = -transaction.trnamt
            if amount == 0:
                skips.add(number, "zero amount")
                continue
            name = transaction.name or (transaction.payee.name if transaction.payee else None)
            description = name or transaction.memo or transaction.trntype
            hint = OFX_TYPES.get(transaction.trntype)
            if hint == "income" and amount > 0:
                hint = None
            if card and transaction.trntype == "PAYMENT" and amount < 0:
                hint = "card_payment"
            hint = hint or kind_hint(
                category=None,
                bank_type=None,
                texts=(description, transaction.memo),
                money_in=amount < 0,
            )
            rows.append(
                ParsedRow(
                    line=number,
                    timestamp=moment,
                    has_time=moment.time() != moment.min.time(),
                    amount=amount,
                    description=description,
                    notes=transaction.memo if name and transaction.memo else None,
                    bank_type=transaction.trntype,
                    currency=(transaction.currency.cursym if transaction.currency else currency),
                    external_id=transaction.fitid,
                    kind_hint=hint,
                )
            )
    if not rows:
        raise ParseFailed("The OFX file has no transactions.")
    detection = Detection(
        format="ofx",
        encoding=encoding,
        amount_sign="spend_negative",
        currency=next(iter(currencies)) if len(currencies) == 1 else None,
        signature="ofx",
    )
    return ParsedFile(detection, iter(rows), skips)
