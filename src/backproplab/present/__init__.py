"""Results made readable: ``Table`` (one table, three outputs) and the reproduction's Markdown report."""
