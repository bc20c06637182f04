"""Letters: one real PDF per message (ReportLab), and a daily print batch for the print house.

The PDF has the municipality's letterhead (settings.MUNICIPALITY), the recipient in the address window
of a standard Dutch window envelope (window left, 20 mm from the left, 50 mm from the top), the payment
reference and amount in a box, the rendered body, and the IBAN in the footer.

The print batch merges every letter not yet batched into one PDF (pypdf) and writes a manifest CSV with
one row per letter; letters are claimed for a batch with a conditional UPDATE, so two runs never put a
letter in two batches.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, Paragraph

from customers.models import Channel
from dunning.channels.base import PermanentChannelError, SendResult
from dunning.models import Message

ACCENT = HexColor("#1f4e79")
BODY_STYLE = ParagraphStyle("body", fontName="Helvetica", fontSize=10.5, leading=14, spaceAfter=7)
SUBJECT_STYLE = ParagraphStyle("subject", fontName="Helvetica-Bold", fontSize=12, leading=15, spaceAfter=10)


def letter_pdf(*, recipient_lines: list[str], subject: str, body: str, reference: str, amount: str,
               letter_date: str, message_id: int) -> bytes:  # fmt: skip
    municipality = settings.MUNICIPALITY
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(subject or municipality["name"])
    canvas.setAuthor(municipality["name"])

    # Letterhead, top right (the window is on the left).
    canvas.setFillColor(ACCENT)
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawRightString(width - 20 * mm, height - 22 * mm, municipality["name"])
    canvas.setFont("Helvetica", 8.5)
    canvas.setFillColorRGB(0.2, 0.2, 0.2)
    y = height - 28 * mm
    for line in (municipality["address"], f"Telefoon {municipality['phone']}", municipality["email"]):
        canvas.drawRightString(width - 20 * mm, y, line)
        y -= 4 * mm

    # Address window: 20 mm from the left, 50 mm from the top, 90 x 40 mm.
    canvas.setFillColorRGB(0, 0, 0)
    text = canvas.beginText(22 * mm, height - 56 * mm)
    text.setFont("Helvetica", 10.5)
    text.setLeading(13)
    for line in recipient_lines:
        text.textLine(line)
    canvas.drawText(text)

    # Reference box: what to pay and with which reference.
    box_top = height - 100 * mm
    canvas.setStrokeColor(ACCENT)
    canvas.rect(20 * mm, box_top - 20 * mm, width - 40 * mm, 20 * mm, stroke=1, fill=0)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(24 * mm, box_top - 6 * mm, "Datum")
    canvas.drawString(74 * mm, box_top - 6 * mm, "Betalingskenmerk")
    canvas.drawString(134 * mm, box_top - 6 * mm, "Te betalen")
    canvas.setFont("Helvetica-Bold", 10.5)
    canvas.drawString(24 * mm, box_top - 13 * mm, letter_date)
    canvas.drawString(74 * mm, box_top - 13 * mm, reference)
    canvas.drawString(134 * mm, box_top - 13 * mm, amount)

    # Body.
    story = []
    if subject:
        story.append(Paragraph(escape(subject), SUBJECT_STYLE))
    for paragraph in body.split("\n\n"):
        story.append(Paragraph(escape(paragraph).replace("\n", "<br/>"), BODY_STYLE))
    frame = Frame(20 * mm, 28 * mm, width - 40 * mm, box_top - 26 * mm - 28 * mm, showBoundary=0)
    frame.addFromList(story, canvas)
    if story:  # did not fit: continue on following pages
        while story:
            _footer(canvas, municipality, message_id)
            canvas.showPage()
            frame = Frame(20 * mm, 28 * mm, width - 40 * mm, height - 50 * mm, showBoundary=0)
            before = len(story)
            frame.addFromList(story, canvas)
            if len(story) == before:  # a paragraph taller than a page: stop rather than loop
                break
    _footer(canvas, municipality, message_id)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _footer(canvas: Canvas, municipality: dict, message_id: int) -> None:
    width, _ = A4
    canvas.setFont("Helvetica", 8)
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.drawString(
        20 * mm, 15 * mm, f"{municipality['name']} · IBAN {municipality['iban']} · {municipality['phone']}"
    )
    canvas.drawRightString(width - 20 * mm, 15 * mm, f"ref. {message_id}")


def letter_send(*, message: Message, subject: str, body: str, context: dict, now: datetime) -> SendResult:
    """'Sending' a letter: render its PDF and store it for the next print batch."""
    debtor = message.claim.debtor
    if not debtor.has_postal_address:
        raise PermanentChannelError("no postal address: the letter cannot be posted", invalid_recipient=False)
    address = [line for line in (context.get("postal_address") or "").split("\n") if line]
    if not address:  # the step kind does not allow the address variable; the envelope still needs it
        from dunning.channels.render import postal_address

        address = postal_address(debtor).split("\n")
    recipient_lines = [debtor.display_name, *address]
    pdf = letter_pdf(
        recipient_lines=recipient_lines,
        subject=subject,
        body=body,
        reference=context.get("claim_reference", message.claim.payment_reference),
        amount=context.get("total_due") or context.get("open_amount", ""),
        letter_date=_local_date(now, message.language),
        message_id=message.pk,
    )
    message.document.save(f"message-{message.pk}.pdf", ContentFile(pdf), save=False)
    return SendResult(provider_id=f"letter-{message.pk}", recipient=" / ".join(recipient_lines))


def _local_date(now: datetime, language: str) -> str:
    from dunning.channels.render import day

    return day(timezone.localdate(now), language or "nl")


# ---------------------------------------------------------------------------------------------- batches


@dataclass(frozen=True)
class PrintBatch:
    name: str
    letters: int
    pdf_path: str
    manifest_path: str


MANIFEST_FIELDS = ["message_id", "payment_reference", "recipient", "postal_code", "city", "country", "pages", "file"]


def print_batch_create(*, now: datetime, limit: int = 5000) -> PrintBatch | None:
    """Merge all letters not yet in a batch into one PDF plus a manifest CSV; None when there are none."""
    name = f"print-{timezone.localtime(now):%Y%m%d-%H%M%S}"
    candidates = list(
        Message.objects.filter(channel=Channel.LETTER, print_batch="", sent_at__isnull=False, sent_at__lte=now)
        .exclude(document="")
        .order_by("claim__debtor__postal_code", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return None
    # Claim them: a letter already taken by a concurrent batch is left out (conditional update).
    Message.objects.filter(pk__in=candidates, print_batch="").update(print_batch=name)
    letters = list(
        Message.objects.filter(print_batch=name)
        .select_related("claim__debtor")
        .order_by("claim__debtor__postal_code", "pk")
    )
    if not letters:
        return None
    writer = PdfWriter()
    manifest = io.StringIO()
    rows = csv.DictWriter(manifest, fieldnames=MANIFEST_FIELDS)
    rows.writeheader()
    for letter in letters:
        with letter.document.open("rb") as handle:
            reader = PdfReader(io.BytesIO(handle.read()))
        for page in reader.pages:
            writer.add_page(page)
        debtor = letter.claim.debtor
        rows.writerow(
            {
                "message_id": letter.pk,
                "payment_reference": letter.claim.payment_reference,
                "recipient": debtor.display_name,
                "postal_code": debtor.postal_code,
                "city": debtor.city,
                "country": debtor.country,
                "pages": len(reader.pages),
                "file": letter.document.name,
            }
        )
    merged = io.BytesIO()
    writer.write(merged)
    pdf_path = default_storage.save(f"print_batches/{name}.pdf", ContentFile(merged.getvalue()))
    manifest_path = default_storage.save(f"print_batches/{name}.csv", ContentFile(manifest.getvalue().encode()))
    return PrintBatch(name=name, letters=len(letters), pdf_path=pdf_path, manifest_path=manifest_path)
