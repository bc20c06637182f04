from campaigns import admin_experiments  # noqa: F401
