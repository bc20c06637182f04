"""The dunning admin, one module per area so each stays small and readable."""

from dunning.admin import (
    approvals,  # noqa: F401
    arrangements,  # noqa: F401
    claims,  # noqa: F401
    effect,  # noqa: F401
    imports,  # noqa: F401
    legal,  # noqa: F401
    outbox,  # noqa: F401
    pauses,  # noqa: F401
    payments,  # noqa: F401
)
