"""Running an exported model without TensorFlow: the flatbuffer reader, LCE's interpreter, tensor
roles, the sidecar reader, the speaker tracker and `ser-bnn predict`'s pipeline. Never imports
TensorFlow or `ser_bnn.export` (tests/test_layout.py checks the import graph)."""
