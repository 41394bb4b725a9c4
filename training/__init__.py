"""Datasets, the trainer (Eq. 13-15), evaluation and experiments."""
