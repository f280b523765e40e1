"""The networks (TensorFlow / Larq): quantizers, binary layers, the binary LSTM, the BCRNN / CRNN
factory, the log-Mel front-end layer and the model summary."""
