"""The dunning admin, one module per area so each stays small and readable."""

from dunning.admin import claims  # noqa: F401
from dunning.admin import effect  # noqa: F401
from dunning.admin import payments  # noqa: F401
