"""Training and evaluation: one fold's training loop, losses, the cross-validation loop over folds,
evaluation, metrics, the run directory and the linear floor."""
