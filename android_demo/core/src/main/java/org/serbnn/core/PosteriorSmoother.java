package org.serbnn.core;

/**
 * Live-mode decision over a stream of window posteriors. Two modes:
 * <ul>
 *   <li>{@link Mode#EXPONENTIAL}: {@code s = alpha * p + (1 - alpha) * s}, starting from the first p
 *       (alpha = 1 shows each window's posterior as is);</li>
 *   <li>{@link Mode#MAX}: running max per class since the last {@link #reset()}, the streaming form of
 *       {@link Pooling#maxPool} (the offline utterance rule).</li>
 * </ul>
 */
public final class PosteriorSmoother {
    public enum Mode { EXPONENTIAL, MAX }

    private final Mode mode;
    private final float alpha;
    private float[] state;
    private int count;

    public PosteriorSmoother(Mode mode, float alpha) {
        if (mode == null) {
            throw new IllegalArgumentException("mode is null");
        }
        if (mode == Mode.EXPONENTIAL && !(alpha > 0f && alpha <= 1f)) {
            throw new IllegalArgumentException("alpha must be in (0, 1], got " + alpha);
        }
        this.mode = mode;
        this.alpha = alpha;
    }

    public static PosteriorSmoother exponential(float alpha) {
        return new PosteriorSmoother(Mode.EXPONENTIAL, alpha);
    }

    public static PosteriorSmoother max() {
        return new PosteriorSmoother(Mode.MAX, 1f);
    }

    public Mode mode() {
        return mode;
    }

    /** Add one window's posterior; returns a copy of the current smoothed vector. */
    public synchronized float[] update(float[] p) {
        if (state == null) {
            state = p.clone();
        } else {
            if (p.length != state.length) {
                throw new IllegalArgumentException("posterior has " + p.length + " classes, expected " + state.length);
            }
            for (int c = 0; c < p.length; c++) {
                if (mode == Mode.MAX) {
                    if (p[c] > state[c]) {
                        state[c] = p[c];
                    }
                } else {
                    state[c] = alpha * p[c] + (1f - alpha) * state[c];
                }
            }
        }
        count++;
        return state.clone();
    }

    /** Current vector or null before the first update. */
    public synchronized float[] current() {
        return state == null ? null : state.clone();
    }

    public synchronized int count() {
        return count;
    }

    public synchronized void reset() {
        state = null;
        count = 0;
    }
}
