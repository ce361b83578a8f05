"""Explanations: one backward pass worked out number by number (``explain.trace``)."""
