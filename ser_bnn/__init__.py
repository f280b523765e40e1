"""ser-bnn: binarized CRNNs for speech emotion recognition (Zhao et al., ICASSP 2019).

Importing the package never imports TensorFlow; it only makes sure that, when TensorFlow
is imported later, it uses the legacy Keras 2 (tf-keras) that larq needs.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
