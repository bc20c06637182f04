"""Clerks download a letter's PDF (it holds personal data: the download is logged as an access)."""

from auditlog.signals import accessed
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from dunning.models import Message


@staff_member_required
def letter_download(request, message_id: int):
    if not request.user.has_perm("dunning.view_message"):
        raise PermissionDenied
    message = get_object_or_404(Message.objects.select_related("claim"), pk=message_id)
    if not message.document:
        raise Http404("This message has no letter PDF.")
    accessed.send(sender=Message, instance=message)
    return FileResponse(
        message.document.open("rb"),
        as_attachment=True,
        filename=f"brief-{message.claim.payment_reference}-{message.pk}.pdf",
        content_type="application/pdf",
    )
