"""django-q2 entry points: thin wrappers that take a time and call a service."""
