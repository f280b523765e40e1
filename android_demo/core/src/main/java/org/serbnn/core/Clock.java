package org.serbnn.core;

/** Milliseconds on a monotonic clock (for intervals only); tests pass their own. */
public interface Clock {
    /** {@link System#nanoTime()} in milliseconds (Android: CLOCK_MONOTONIC). */
    Clock MONOTONIC = new Clock() {
        @Override
        public long nowMs() {
            return System.nanoTime() / 1000000L;
        }
    };

    long nowMs();
}
