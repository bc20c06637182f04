"""Pieces the admin modules share."""


class ReadOnlyAdminMixin:
    """Shown in the admin, never added, edited or deleted by hand: records of what happened (audit entries,
    payments, messages, purge runs) change only through services and actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
