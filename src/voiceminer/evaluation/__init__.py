"""Evaluation helpers: labeled-dataset loaders with deterministic train/validation splits
(see :mod:`voiceminer.evaluation.datasets`)."""
