"""The real bank exports in ../shared/realcsv/ and what a careful reader finds in each.

The files are other projects' test fixtures and stay outside the repository. The expected
figures were worked out by reading each file by hand (count, money out, money in, first
and last date with the file's own date format, pending/balance rows left out); the
sample rows and kind hints were checked line by line against the file. Money out is
positive, money in negative, as in ParsedRow. Read by ingest/test_realcsv.py (the parse),
transactions/test_import_realcsv.py (the import and /metrics) and categorize/exports.py.
"""

from dataclasses import dataclass
from pathlib import Path

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "realcsv"


@dataclass(frozen=True)
class Expected:
    options: dict | None  # None: read with no options at all
    rows: int
    money_out: str
    money_in: str
    first: str
    last: str
    samples: list[tuple[int, str, str, str]]  # line, timestamp, amount, description
    kinds: dict[str, tuple[int, str]]  # hint -> (rows, signed total)
    skipped: dict[str, int]  # reason (its first words) -> rows


EXPECTED = {
    "bank2ynab-amex-uk.csv": Expected(
        options=None,
        rows=10,
        money_out="1385.80",
        money_in="1100.00",
        first="2019-12-02",
        last="2019-12-12",
        samples=[
            (5, "2019-12-12 00:00:00", "1183.23", "ROYAL LONDON INSURANCE        01222 61234  GBR"),
            (14, "2019-12-02 00:00:00", "-1100.00", "PAYMENT RECEIVED - THANK YOU"),
        ],
        kinds={"card_payment": (1, "-1100.00")},
        skipped={"pending transaction": 3},
    ),
    "bank2ynab-bunq-nl.csv": Expected(
        options=None,
        rows=7,
        money_out="39.68",
        money_in="15.86",
        first="2018-12-06",
        last="2018-12-17",
        samples=[
            (2, "2018-12-06 00:00:00", "8.78", "CLOUDFLARE"),
            (8, "2018-12-17 00:00:00", "7.99", "NETFLIX.COM"),
        ],
        kinds={},
        skipped={},
    ),
    "bank2ynab-dbs-posb-sg.csv": Expected(
        options=None,
        rows=8,
        money_out="173.28",
        money_in="0.00",
        first="2018-04-13",
        last="2018-04-18",
        samples=[
            (
                7,
                "2018-04-18 00:00:00",
                "6.66",
                "DEBIT PURCHASE 15/04/18  66-6666 UBER EATS AN2GO HELP.UBERh",
            ),
            (
                21,
                "2018-04-13 00:00:00",
                "6.66",
                "DEBIT PURCHASE 66-6666 TOAST BO6-MANULIFE CTR   S 10/04/18",
            ),
        ],
        kinds={},
        skipped={"continuation": 8},
    ),
    "bank2ynab-rabobank-nl.csv": Expected(
        options=None,
        rows=3,
        money_out="1087.49",
        money_in="50.00",
        first="2018-03-01",
        last="2018-03-16",
        samples=[
            (3, "2018-03-01 00:00:00", "337.49", "RENTE LENING"),
            (7, "2018-03-16 00:00:00", "750.00", "W. Koelewijn"),
        ],
        kinds={},
        skipped={},
    ),
    "csv2ofx-capitalone-card.csv": Expected(
        options=None,
        rows=2,
        money_out="1000.00",
        money_in="1000.00",
        first="2015-12-31",
        last="2015-12-31",
        samples=[
            (2, "2015-12-31 00:00:00", "1000.00", "Airplanes R Us"),
            (3, "2015-12-31 00:00:00", "-1000.00", "CAPITAL ONE AUTOPAY PYMT"),
        ],
        kinds={"card_payment": (1, "-1000.00")},
        skipped={},
    ),
    "csv2ofx-ing-spain.csv": Expected(
        options=None,
        rows=10,
        money_out="1550.79",
        money_in="1901.00",
        first="2022-03-24",
        last="2022-12-31",
        samples=[
            (2, "2022-03-24 00:00:00", "-2.83", "Abono por campaña Abono Shopping NARANJA:GALP"),
            (11, "2022-11-13 00:00:00", "-500.00", "Traspaso recibido Cuenta Nómina"),
        ],
        kinds={"income": (1, "-1394.11"), "transfer": (1, "-500.00")},
        skipped={},
    ),
    "csv2ofx-mint-cr-lineends.csv": Expected(
        options=None,
        rows=4,
        money_out="5000.00",
        money_in="2000.00",
        first="2015-06-12",
        last="2015-06-14",
        samples=[
            (2, "2015-06-12 00:00:00", "1000.00", "Transfer from Checking"),
            (5, "2015-06-14 00:00:00", "2500.00", "Transfer from Savings"),
        ],
        kinds={"transfer": (4, "3000.00")},
        skipped={},
    ),
    "csv2ofx-outbank-de.csv": Expected(
        options=None,
        rows=4,
        money_out="135.89",
        money_in="100.00",
        first="2019-01-05",
        last="2019-02-20",
        samples=[
            (2, "2019-02-20 00:00:00", "-100.00", "Jane Doe"),
            (5, "2019-01-05 00:00:00", "25.00", "PayPal Europe S.a.r.l. et Cie S.C.A"),
        ],
        kinds={},
        skipped={},
    ),
    "csv2ofx-payoneer.csv": Expected(
        options={"date_format": "%m/%d/%Y"},
        rows=2,
        money_out="100.00",
        money_in="120.00",
        first="2021-05-03",
        last="2021-05-03",
        samples=[
            (2, "2021-05-03 12:31:46", "100.00", "Transaction description"),
            (3, "2021-05-03 12:08:31", "-120.00", "Transaction description"),
        ],
        kinds={},
        skipped={},
    ),
    "csv2ofx-pc-mastercard-ca.csv": Expected(
        options=None,
        rows=2,
        money_out="50.31",
        money_in="0.00",
        first="2018-12-15",
        last="2019-01-10",
        samples=[
            (2, "2019-01-10 18:50:00", "36.33", "Mobil"),
            (3, "2018-12-15 17:08:00", "13.98", "APL*ITUNES.COM/BILL"),
        ],
        kinds={},
        skipped={},
    ),
    "csv2ofx-schwab-checking.csv": Expected(
        options=None,
        rows=4,
        money_out="235.27",
        money_in="20.00",
        first="2022-08-04",
        last="2022-08-17",
        samples=[
            (2, "2022-08-17 00:00:00", "-20.00", "Deposit Mobile Banking"),
            (5, "2022-08-04 00:00:00", "57.27", "PAYPAL INST XFER 220803~ Tran: ACHDW"),
        ],
        kinds={"transfer": (1, "57.27")},
        skipped={},
    ),
    "csv2ofx-ubs-ch-fr.csv": Expected(
        options=None,
        rows=3,
        money_out="210.00",
        money_in="240.00",
        first="2019-02-28",
        last="2019-04-27",
        samples=[
            (2, "2019-03-31 00:00:00", "10.00", "Solde prix prestations"),
            (4, "2019-04-27 00:00:00", "200.00", "Ordre e-banking"),
        ],
        kinds={},
        skipped={},
    ),
    "cvigo-n26.csv": Expected(
        options=None,
        rows=86,
        money_out="15109.28",
        money_in="2737.69",
        first="2024-01-15",
        last="2024-04-10",
        samples=[
            (2, "2024-01-15 00:00:00", "4.50", "STARBUCKS COFFEE"),
            (88, "2024-04-10 00:00:00", "50.00", "LONG REFERENCE"),
        ],
        kinds={"income": (2, "-2502.45"), "transfer": (1, "100.00")},
        skipped={"zero amount": 1},
    ),
    "cvigo-neon-ch.csv": Expected(
        options=None,
        rows=47,
        money_out="20849.51",
        money_in="49200.59",
        first="2024-01-25",
        last="2024-12-30",
        samples=[
            (2, "2024-12-30 00:00:00", "3000.00", "Investment Broker"),
            (48, "2024-01-25 00:00:00", "-6946.65", "Employer Name"),
        ],
        kinds={"transfer": (5, "12393.55"), "income": (15, "-49200.59")},
        skipped={},
    ),
    "cvigo-zkb-ch.csv": Expected(
        options=None,
        rows=7,
        money_out="525.50",
        money_in="5075.00",
        first="2024-01-01",
        last="2024-01-30",
        samples=[
            (2, "2024-01-01 00:00:00", "-5000.00", "Credit salary: Test Employer, Address, City"),
            (8, "2024-01-30 00:00:00", "-75.00", "Credit TWINT: Test Sender"),
        ],
        kinds={"income": (1, "-5000.00")},
        skipped={},
    ),
    "dkb-giro-de.csv": Expected(
        options=None,
        rows=4,
        money_out="180.05",
        money_in="2.17",
        first="2013-12-27",
        last="2013-12-30",
        samples=[
            (
                8,
                "2013-12-30 00:00:00",
                "-2.17",
                (
                    "Abrechnung 30.12.2013      siehe Anlage<br />Abrechnung 30.12.2013<br />In"
                    "formati"
                    "on zur Abrechnung<br />Kontostand am 30.12.2013                           "
                    "       "
                    "      5.939,28 +<br />Abrechnungszeitraum vom 01.10.2013 bis 31.12.2013<br"
                    " />Zins"
                    "en f�r Guthaben                                                  2,17+<br "
                    "/> 0,20"
                    "00 v.H. Haben-Zins bis 30.12.2013<br />Abrechnung 31.12.2013              "
                    "       "
                    "                           2,17+<br />Sollzinss�tze am 30.12.2013<br /> 7,"
                    "9000 v."
                    "H. f�r Dispositionskredit<br />(aktuelle Kreditlinie       1.000,00)<br />"
                    "12,0000"
                    " v.H. f�r Konto�berziehungen<br />�ber die Kreditlinie hinaus<br />Kontost"
                    "and/Rec"
                    "hnungsabschluss am 30.12.2013                     5.941,45 +<br />Rechnung"
                    "snummer"
                    ": 20131230-BY111-00001729747"
                ),
            ),
            (11, "2013-12-27 00:00:00", "8.80", "DANKE, IHR LIDL"),
        ],
        kinds={"income": (1, "-2.17")},
        skipped={},
    ),
    "dkb-visa-de.csv": Expected(
        options=None,
        rows=4,
        money_out="134.41",
        money_in="14.57",
        first="2017-12-22",
        last="2017-12-30",
        samples=[
            (8, "2017-12-30 00:00:00", "34.41", "ALDI GMBH & CO. KGMUENCHEN"),
            (11, "2017-12-22 00:00:00", "-5.58", "HabenzinsenZ 000010035 T 030   0000"),
        ],
        kinds={"income": (1, "-5.58")},
        skipped={},
    ),
    "hledger-monefy-app.csv": Expected(
        options={"date_format": "%d/%m/%Y"},
        rows=8,
        money_out="472.00",
        money_in="6364.80",
        first="2021-12-06",
        last="2021-12-06",
        samples=[
            (2, "2021-12-06 00:00:00", "55.00", "fbbd"),
            (9, "2021-12-06 00:00:00", "-200.00", ""),
        ],
        kinds={"income": (1, "-1280.80"), "transfer": (3, "-4884.00")},
        skipped={},
    ),
    "hledger-paypal-custom.csv": Expected(
        options=None,
        rows=4,
        money_out="15.99",
        money_in="9.41",
        first="2019-10-01",
        last="2019-10-22",
        samples=[
            (2, "2019-10-01 03:46:20", "6.99", "Calm Radio"),
            (8, "2019-10-22 05:07:06", "-9.41", "Noble Benefactor"),
        ],
        kinds={},
        skipped={"pending transaction": 3},
    ),
    "jbms-mint.csv": Expected(
        options=None,
        rows=3,
        money_out="69.33",
        money_in="66.88",
        first="2013-11-27",
        last="2016-08-10",
        samples=[
            (2, "2016-08-10 00:00:00", "2.45", "Starbucks"),
            (4, "2013-12-02 00:00:00", "66.88", "National Federal Des"),
        ],
        kinds={"card_payment": (1, "-66.88"), "transfer": (1, "66.88")},
        skipped={},
    ),
    "jbms-schwab-eac-checking.csv": Expected(
        options=None,
        rows=12,
        money_out="11758.04",
        money_in="34239.21",
        first="2019-11-22",
        last="2021-11-01",
        samples=[
            (5, "2021-07-30 00:00:00", "-3.00", "ATM Fee Rebate"),
            (16, "2021-11-01 00:00:00", "-1234.56", "Deposit Mobile Banking"),
        ],
        kinds={"transfer": (2, "0.00"), "income": (1, "-0.09")},
        skipped={"not a transaction": 2},
    ),
    "jbms-venmo.csv": Expected(
        options=None,
        rows=11,
        money_out="3500.81",
        money_in="2573.73",
        first="2017-04-25",
        last="2022-02-18",
        samples=[
            (2, "2017-04-25 03:15:53", "220.00", "Tutoring"),
            (12, "2022-02-18 23:24:55", "22.84", "Merchant Transaction"),
        ],
        kinds={"transfer": (2, "2491.23")},
        skipped={},
    ),
    "ofxstatement-ing-de-umsatzanzeige.csv": Expected(
        options=None,
        rows=9,
        money_out="228.60",
        money_in="50.00",
        first="2018-12-09",
        last="2018-12-28",
        samples=[
            (16, "2018-12-28 00:00:00", "5.50", "PayDude (Europe) S.a.r.l. et Cie., S .C.A."),
            (24, "2018-12-09 00:00:00", "2.90", "INFOPAY FISCAL SERVICES GMBH"),
        ],
        kinds={},
        skipped={},
    ),
    "ofxstatement-ing-diba-at.csv": Expected(
        options=None,
        rows=6,
        money_out="1534.56",
        money_in="542.53",
        first="2013-08-13",
        last="2013-12-31",
        samples=[
            (2, "2013-12-31 00:00:00", "-12.23", "Habenzinsen"),
            (7, "2013-08-13 00:00:00", "-10.00", "Prämie Foo"),
        ],
        kinds={"income": (1, "-12.23"), "transfer": (1, "-20.30")},
        skipped={},
    ),
    "ofxstatement-ing-nl.csv": Expected(
        options=None,
        rows=5,
        money_out="1.87",
        money_in="21.25",
        first="2019-12-13",
        last="2020-02-13",
        samples=[
            (2, "2020-02-13 00:00:00", "1.25", "Kosten OranjePakket met korting"),
            (7, "2019-12-13 00:00:00", "0.31", "Kosten OranjePakket"),
        ],
        kinds={},
        skipped={"zero amount": 1},
    ),
    "ofxstatement-johnlewis-card-uk.csv": Expected(
        options=None,
        rows=8,
        money_out="358.56",
        money_in="1234.56",
        first="2020-03-28",
        last="2020-04-22",
        samples=[
            (2, "2020-03-28 00:00:00", "99.99", "Amazon.co.uk*3N8FF0AA5 AMAZON.CO.UK  LUX"),
            (9, "2020-04-22 00:00:00", "88.99", "WAITROSE DIRECT        SVS DIRECT SE GBR"),
        ],
        kinds={"card_payment": (1, "-1234.56")},
        skipped={},
    ),
    "ofxstatement-knab-nl.csv": Expected(
        options=None,
        rows=28,
        money_out="20827.76",
        money_in="20834.77",
        first="2019-01-07",
        last="2019-06-21",
        samples=[
            (3, "2019-06-21 00:00:00", "827.75", "Gert Janssen (FR)"),
            (30, "2019-01-07 00:00:00", "-7.02", "Knab"),
        ],
        # 15 Overboeking out; 12 Ontvangen betaling back from 99999999, the account the
        # 0.01 Overboeking went to: 20827.76 - 20827.75 = 0.01 (and the Rente is income).
        kinds={"transfer": (27, "0.01"), "income": (1, "-7.02")},
        skipped={},
    ),
    "ofxstatement-lloyds-uk.csv": Expected(
        options=None,
        rows=12,
        money_out="6381.99",
        money_in="2500.00",
        first="2023-12-01",
        last="2024-01-15",
        samples=[
            (2, "2024-01-15 00:00:00", "8.99", "ACME STORE CD 1417    14JAN24"),
            (
                13,
                "2023-12-01 00:00:00",
                "-500.00",
                "CLIENT CO LTD 400000005566778899 306364     10 01DEC23 09:15",
            ),
        ],
        kinds={},
        skipped={},
    ),
    "ofxstatement-revolut-2022-01.csv": Expected(
        options=None,
        rows=6,
        money_out="413.44",
        money_in="500.00",
        first="2022-01-02",
        last="2022-01-13",
        samples=[
            (2, "2022-01-02 12:16:54", "250.00", "To Guybrush Threepwood"),
            (9, "2022-01-13 11:30:07", "69.26", "www.example.com"),
        ],
        kinds={"transfer": (2, "-250.00")},
        skipped={"zero amount": 1, "pending transaction": 2},
    ),
    "ofxstatement-sparkasse-de-camt.csv": Expected(
        options=None,
        rows=16,
        money_out="1280.46",
        money_in="1410.22",
        first="2018-03-21",
        last="2018-04-03",
        samples=[
            (3, "2018-04-03 00:00:00", "62.59", "EDEKA DÜBEL//THOMASINGEN/DE"),
            (19, "2018-03-21 00:00:00", "16.49", "KREDITKARTENABRECHNUNG"),
        ],
        kinds={"income": (1, "-1060.22"), "card_payment": (1, "16.49")},
        skipped={"pending transaction": 1, "zero amount": 1},
    ),
    "ofxstatement-wise.csv": Expected(
        options=None,
        rows=5,
        money_out="368.90",
        money_in="145.17",
        first="2020-08-20",
        last="2020-08-24",
        samples=[
            (2, "2020-08-24 00:00:00", "357.38", "John Doe"),
            (6, "2020-08-20 00:00:00", "0.17", "TransferWise Charges for: TRANSFER-174549828"),
        ],
        kinds={"transfer": (1, "-20.17")},
        skipped={},
    ),
    "ofxstatement-woolworths-money-au.csv": Expected(
        options=None,
        rows=4,
        money_out="78.02",
        money_in="3.14",
        first="2001-01-01",
        last="2015-10-19",
        samples=[
            (2, "2001-01-01 00:00:00", "10.99", "Edmund Barton"),
            (7, "2015-10-19 00:00:00", "12.30", "FOODIE KITCHEN                 DARWIN"),
        ],
        kinds={},
        skipped={"pending transaction": 2},
    ),
    # Every day is <= 12; the amounts are in rupees ('Amount(in Rs)'): day first.
    "paisa-icici-creditcard-in.csv": Expected(
        options=None,
        rows=3,
        money_out="1370.37",
        money_in="0.00",
        first="2023-03-01",
        last="2023-03-01",
        samples=[
            (7, "2023-03-01 00:00:00", "165.72", "WWW AMAZON IN GURGAON IN"),
            (9, "2023-03-01 00:00:00", "449.00", "SWIGGY Bengaluru IN"),
        ],
        kinds={},
        skipped={"not a transaction": 1},
    ),
    "paisa-paytm-wallet-in.csv": Expected(
        options=None,
        rows=74,
        money_out="3380.00",
        money_in="3274.00",
        first="2023-10-06",
        last="2024-01-06",
        samples=[
            (2, "2024-01-06 17:42:00", "30.00", "Paid for order"),
            (75, "2023-10-06 11:02:00", "65.00", "Paid for order"),
        ],
        kinds={"transfer": (8, "-3274.00")},
        skipped={},
    ),
    "reckon-banco-do-brasil.csv": Expected(
        options=None,
        rows=22,
        money_out="495.00",
        money_in="1300.00",
        first="2012-11-01",
        last="2012-11-05",
        samples=[
            (
                3,
                "2012-11-01 00:00:00",
                "-100.00",
                "Transferência on line - 01/11 4885     256620-6 XXXXXXXXXXXXX",
            ),
            (24, "2012-11-05 00:00:00", "100.00", "Pagamento de Título - XXXXXXXXXXXXXXXXXXX"),
        ],
        kinds={"income": (1, "-1000.00")},
        skipped={"balance or summary row": 1},
    ),
    "reckon-chase-headerless.csv": Expected(
        options={
            "mapping": {"type": 0, "date": 1, "description": 2, "amount": 3},
        },
        rows=9,
        money_out="261.41",
        money_in="7183.52",
        first="2009-12-10",
        last="2009-12-24",
        samples=[
            (1, "2009-12-24 12:00:00", "85.00", "HOST 037196321563 MO        12/22SLICEHOST"),
            (
                9,
                "2009-12-10 12:00:00",
                "-2105.00",
                "Some Company vendorpymt                 PPD ID: 5KL3832735",
            ),
        ],
        kinds={"income": (1, "-1558.52"), "transfer": (1, "116.22")},
        skipped={},
    ),
    "reckon-fr-bank-preamble.csv": Expected(
        options=None,
        rows=2,
        money_out="8.10",
        money_in="50.00",
        first="2016-02-18",
        last="2016-02-19",
        samples=[
            (5, "2016-02-19 00:00:00", "-50.00", "VIR RECU 508160"),
            (6, "2016-02-18 00:00:00", "8.10", "COTISATION JAZZ"),
        ],
        kinds={},
        skipped={},
    ),
    "reckon-nationwide-headerless.csv": Expected(
        options={
            "mapping": {
                "date": 0,
                "description": 1,
                "notes": 2,
                "debit": 3,
                "credit": 4,
                "balance": 5,
            }
        },
        rows=4,
        money_out="139.77",
        money_in="500.00",
        first="2013-10-09",
        last="2013-12-10",
        samples=[
            (1, "2013-11-07 00:00:00", "-500.00", "Bank credit"),
            (4, "2013-12-10 00:00:00", "100.00", "ATM Withdrawal 2"),
        ],
        kinds={},
        skipped={},
    ),
    "reds-dcu-checking-us.csv": Expected(
        options=None,
        rows=10,
        money_out="15923.03",
        money_in="16423.03",
        first="2021-12-15",
        last="2021-12-31",
        samples=[
            (
                2,
                "2021-12-31 00:00:00",
                "7971.39",
                (
                    "TRANSFER TO MBR ***0123 ACCT 4 MOBILE BANKING TRANSFER:123456789012345678 "
                    "- SWEEP"
                    " ACCOUNT"
                ),
            ),
            (
                11,
                "2021-12-15 00:00:00",
                "-10000.00",
                "ELECTRONIC DEPOSIT - 3392 ACME INC DDEPOSIT   121521",
            ),
        ],
        kinds={"transfer": (5, "15923.03")},
        skipped={},
    ),
}
