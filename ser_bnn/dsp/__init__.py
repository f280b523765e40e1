"""NumPy references shared by training, export and the runtime: the log-Mel front end, speaker
statistics and their selection rule, speech gating, windowing and the pooling of posteriors. Never
imports TensorFlow."""
