"""Files a run leaves, and how they are written: model files and the atomic writes behind every file."""
