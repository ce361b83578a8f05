"""Results made readable: ``Table`` (one table, three outputs), the reproduction's Markdown report and the
classification tables of ``train``."""
