package org.serbnn.core;

/** A speaker profile cannot be read or does not fit the model (ser_bnn.online.ProfileError); one line. */
public final class ProfileException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProfileException(String message) {
        super(message);
    }
}
