"""The compliance officer's admin: the read-only audit trail, retention rules, purge runs, data-subject requests.

auditlog's own LogEntry admin is replaced: nobody, superusers included, can add, change or delete an audit
entry through the admin; reading it needs `auditlog.view_logentry` (compliance officers).
"""

import csv
import json
from datetime import timedelta

from auditlog.mixins import LogEntryAdminMixin
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from compliance import services
from compliance.audit import AUDITED_MODELS
from compliance.models import DataSubjectRequest, PurgeRun, RetentionRule
from compliance.roles import COMPLIANCE_OFFICER
from compliance.selectors import debtor_entries_q, entry_summary
from dunning.admin.base import ReadOnlyAdminMixin

if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


def is_compliance_officer(user) -> bool:
    return user.is_active and user.groups.filter(name=COMPLIANCE_OFFICER).exists()


def debtor_trail_url(debtor_id: int) -> str:
    """'Who viewed or changed this debtor': the audit trail filtered on the debtor, for a link on their page."""
    return f"{reverse('admin:auditlog_logentry_changelist')}?debtor={int(debtor_id)}"


class DebtorFilter(admin.SimpleListFilter):
    """?debtor=<id>: entries on the debtor and on everything tagged with them (claims, payments, messages...)."""

    title = _("debtor")
    parameter_name = "debtor"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, _("Debtor #%(id)s") % {"id": value})] if value and value.isdigit() else []

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(debtor_entries_q(int(value)))
        return queryset


class ModelFilter(admin.SimpleListFilter):
    """By audited model; a fixed list, so the filter costs no scan of the trail."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        from django.apps import apps

        return [(label, apps.get_model(label)._meta.verbose_name_plural) for label in AUDITED_MODELS]

    def queryset(self, request, queryset):
        value = self.value()
        if value and "." in value:
            app_label, model = value.split(".", 1)
            return queryset.filter(content_type__app_label=app_label, content_type__model=model)
        return queryset


class ActorFilter(admin.SimpleListFilter):
    """By the person (or the system user) who acted; lists staff accounts, not the whole trail."""

    title = _("actor")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True) | get_user_model().objects.filter(is_active=False)
        return [(str(u.pk), u.get_username()) for u in users.distinct().order_by("username")[:200]]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


@admin.register(LogEntry)
class AuditTrailAdmin(ReadOnlyAdminMixin, LogEntryAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/compliance/auditlog/change_list.html"
    date_hierarchy = "timestamp"
    list_display = ("created", "action", "model", "object_pk", "debtor", "actor_name", "remote_addr", "summary")
    list_filter = ("action", DebtorFilter, ModelFilter, ActorFilter)
    list_select_related = ("content_type", "actor")
    search_fields = ("=object_pk",)
    show_full_result_count = False
    readonly_fields = ("created", "resource_url", "action", "actor_name", "remote_addr", "summary", "msg", "cid")
    fieldsets = [
        (None, {"fields": ["created", "actor_name", "remote_addr", "resource_url", "cid"]}),
        (_("What happened"), {"fields": ["action", "summary", "msg"]}),
    ]

    def get_actions(self, request):
        return {}

    @admin.display(description=_("model"), ordering="content_type")
    def model(self, obj):
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    @admin.display(description=_("debtor"))
    def debtor(self, obj):
        data = obj.additional_data or {}
        debtor_id = data.get("debtor_id")
        if debtor_id is None and obj.content_type.model == "debtor" and obj.content_type.app_label == "customers":
            debtor_id = obj.object_id
        if debtor_id is None:
            return "-"
        return format_html('<a href="{}">#{}</a>', debtor_trail_url(debtor_id), debtor_id)

    @admin.display(description=_("actor"), ordering="actor")
    def actor_name(self, obj):
        return obj.actor.get_username() if obj.actor else "-"

    @admin.display(description=_("summary"))
    def summary(self, obj):
        return entry_summary(obj)

    def get_urls(self):
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv),
                name="auditlog_logentry_export",
            ),
            *super().get_urls(),
        ]

    def export_csv(self, request):
        """The trail as filtered on screen, as CSV. The export is itself recorded (an access entry)."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        entries = changelist.get_queryset(request).select_related("content_type", "actor")
        filters = {k: v for k, v in request.GET.items() if k not in ("p", "o")}
        services.bulk_change_record(
            model=LogEntry,
            action="access",
            count=entries.count(),
            reason=f"CSV export of the audit trail; filters: {json.dumps(filters, sort_keys=True)}",
            actor=request.user,
        )

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        header = ["timestamp", "action", "model", "object_id", "debtor_id", "actor", "remote_addr", "summary"]

        def rows():
            yield writer.writerow(header)
            for entry in entries.iterator(chunk_size=2000):
                data = entry.additional_data or {}
                yield writer.writerow(
                    [
                        timezone.localtime(entry.timestamp).isoformat(),
                        entry.get_action_display(),
                        f"{entry.content_type.app_label}.{entry.content_type.model}",
                        entry.object_pk,
                        data.get("debtor_id", ""),
                        entry.actor.get_username() if entry.actor else "",
                        entry.remote_addr or "",
                        entry_summary(entry),
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-trail-{timezone.localdate():%Y%m%d}.csv"'
        return response


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """Editable only by compliance officers: the permission AND the role (a superuser outside it only reads)."""

    change_list_template = "admin/compliance/retentionrule/change_list.html"
    list_display = ("category", "action", "period_display", "starts_from", "is_active", "updated_at")
    list_filter = ("is_active", "action")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and is_compliance_officer(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and is_compliance_officer(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the rule's history stays in the audit trail

    @admin.display(description=_("period"))
    def period_display(self, obj):
        return obj.period_display


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "now", "dry_run", "status", "total", "finished_at")
    list_filter = ("dry_run", "status")
    date_hierarchy = "started_at"
    readonly_fields = ("started_at", "finished_at", "now", "dry_run", "status", "triggered_by", "counts_table")
    exclude = ("counts",)

    @admin.display(description=_("rows"))
    def total(self, obj):
        return obj.total

    @admin.display(description=_("counts per rule"))
    def counts_table(self, obj):
        rows = "".join(
            format_html(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                category,
                entry.get("period", ""),
                entry.get("affected", 0),
                entry.get("held", 0),
                entry.get("error", ""),
            )
            for category, entry in obj.counts.items()
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("category"),
            _("period"),
            _("purged") if not obj.dry_run else _("would be purged"),
            _("kept (legal hold)"),
            _("error"),
            format_html(rows) if rows else "",
        )


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("week", _("Due within a week"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_ = queryset.filter(status__in=DataSubjectRequest.OPEN_STATUSES)
        if self.value() == "overdue":
            return open_.filter(deadline__lt=today)
        if self.value() == "week":
            return open_.filter(deadline__gte=today, deadline__lte=today + timedelta(days=7))
        return queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "debtor_link", "received_on", "deadline", "status", "overdue", "handled_by")
    list_filter = ("status", "kind", OverdueFilter)
    raw_id_fields = ("debtor",)
    readonly_fields = ("deadline", "status", "handled_by", "handled_at", "created_at")
    fields = (
        "debtor",
        "kind",
        "channel",
        "received_on",
        "deadline",
        "details",
        "status",
        "outcome",
        "handled_by",
        "handled_at",
        "created_at",
    )
    actions = ["export_json", "carry_out_erasure", "carry_out_objection", "mark_done"]

    def has_handle_permission(self, request):
        return request.user.has_perm("compliance.handle_datasubjectrequest")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["debtor", "kind", "received_on"]
        return fields

    @admin.display(description=_("debtor"))
    def debtor_link(self, obj):
        return format_html('<a href="{}">#{}</a>', debtor_trail_url(obj.debtor_id), obj.debtor_id)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue(timezone.localdate())

    @admin.action(permissions=["handle"], description=_("Export everything held on the person (JSON, art. 15)"))
    def export_json(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one request to export."), messages.WARNING)
            return None
        subject_request = queryset.get()
        data = services.subject_request_export(request=subject_request, actor=request.user)
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="subject-{subject_request.debtor_id}.json"'
        return response

    @admin.action(permissions=["handle"], description=_("Carry out erasure (anonymise unless the law forbids)"))
    def carry_out_erasure(self, request, queryset):
        for subject_request in queryset.filter(kind=DataSubjectRequest.Kind.ERASURE):
            outcome = services.subject_request_erase(request=subject_request, actor=request.user)
            level = messages.SUCCESS if outcome.done else messages.WARNING
            self.message_user(request, f"#{subject_request.pk}: {outcome.message}", level)

    @admin.action(permissions=["handle"], description=_("Carry out objection (opt out of the channel)"))
    def carry_out_objection(self, request, queryset):
        for subject_request in queryset.filter(kind=DataSubjectRequest.Kind.OBJECTION):
            outcome = services.subject_request_object(request=subject_request, actor=request.user)
            level = messages.SUCCESS if outcome.done else messages.WARNING
            self.message_user(request, f"#{subject_request.pk}: {outcome.message}", level)

    @admin.action(permissions=["handle"], description=_("Mark as done (with the outcome as written)"))
    def mark_done(self, request, queryset):
        done = 0
        for subject_request in queryset.filter(status__in=DataSubjectRequest.OPEN_STATUSES):
            if not subject_request.outcome:
                self.message_user(
                    request, _("#%(id)s: write the outcome first.") % {"id": subject_request.pk}, messages.WARNING
                )
                continue
            services.subject_request_close(
                request=subject_request,
                status=DataSubjectRequest.Status.DONE,
                outcome=subject_request.outcome,
                actor=request.user,
            )
            done += 1
        self.message_user(request, _("%(n)d request(s) marked done.") % {"n": done})
