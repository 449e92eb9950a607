"""An invoice as PDF, drawn with fpdf2 (no browser).

The PDF core fonts cover Latin-1 only; when DejaVu Sans is installed (Debian's
fonts-dejavu-core) it is embedded so any name prints. Without it, characters outside
Latin-1 are replaced rather than refused: an invoice always renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fpdf import FPDF

from modelsnest.payments.types import InvoiceView

_DEJAVU: Final = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)


class _Invoice(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.unicode = all(path.exists() for path in _DEJAVU)
        if self.unicode:
            self.add_font("body", "", str(_DEJAVU[0]))
            self.add_font("body", "B", str(_DEJAVU[1]))
        self.family = "body" if self.unicode else "helvetica"

    def text_of(self, value: object) -> str:
        text = str(value)
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def line_of(self, value: object, *, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, height, self.text_of(value), new_x="LMARGIN", new_y="NEXT")


def invoice_pdf(invoice: InvoiceView) -> bytes:
    pdf = _Invoice()
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(str(invoice.seller.get("name", "")))
    pdf.add_page()
    pdf.line_of("Invoice", size=20, bold=True, height=10)
    pdf.line_of(f"No. {invoice.number}", bold=True)
    pdf.line_of(f"Issued {invoice.issued_at:%Y-%m-%d}   Paid")
    pdf.ln(6)
    pdf.line_of("From", size=9)
    pdf.line_of(invoice.seller.get("name", ""), bold=True)
    for key, label in (("address", ""), ("tax_id", "Tax ID: "), ("email", "")):
        if invoice.seller.get(key):
            pdf.line_of(label + str(invoice.seller[key]).replace("\\n", "\n"))
    pdf.ln(4)
    pdf.line_of("Billed to", size=9)
    if invoice.buyer.get("name"):
        pdf.line_of(invoice.buyer["name"], bold=True)
    pdf.line_of(invoice.buyer.get("email", ""))
    pdf.ln(6)
    pdf.set_font(pdf.family, "B", 10)
    width = pdf.epw - 45
    pdf.cell(width, 8, "Description", border="B")
    pdf.cell(45, 8, f"Amount ({invoice.currency})", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 10)
    pdf.cell(width, 8, pdf.text_of(invoice.description), border="B")
    pdf.cell(45, 8, invoice.amount_usd, border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "B", 10)
    pdf.cell(width, 8, "Total paid")
    pdf.cell(45, 8, f"${invoice.amount_usd}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    note = f"Payment {invoice.payment_id}. Prepaid credits for the Modelsnest API, credited to the account on payment."
    if invoice.refunded_nanos:
        note += " Part or all of this payment was later refunded; see the account's payment history."
    pdf.line_of(note, size=9)
    return bytes(pdf.output())
