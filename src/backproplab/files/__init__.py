"""Files a run leaves: model files, checkpoints (with their history blocks) and the atomic writes behind them."""
