package org.serbnn.core;

import java.io.IOException;

/**
 * A readable recording that {@code ser-bnn predict} refuses to classify: shorter than
 * {@link UtteranceClassifier#MIN_SECONDS}, or digital silence (every sample exactly zero). The message
 * is one line meant for the user, the same text as the Python CLI's (without the file name).
 */
public final class UnusableAudioException extends IOException {
    private static final long serialVersionUID = 1L;

    public enum Reason { TOO_SHORT, NO_SIGNAL }

    public final Reason reason;

    public UnusableAudioException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }
}
