"""Training: ``fit`` (the one training loop), its callbacks and history, schedules, early stopping, the
divergence guard and the explorer's recorder."""
