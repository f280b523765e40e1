"""Data: audio files, corpora, speaker-independent splits, the feature cache, augmentation and the
network inputs (standardized segments). Flows into `ser_bnn.training`; imports no TensorFlow until
features are computed."""
