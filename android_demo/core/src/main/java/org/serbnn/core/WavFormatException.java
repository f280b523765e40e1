package org.serbnn.core;

import java.io.IOException;

/** A file that is not a WAV file this app can read (one line, meant for the user). */
public final class WavFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public WavFormatException(String message) {
        super(message);
    }
}
