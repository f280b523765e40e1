package org.serbnn.core;

/**
 * The streaming rule of {@code ser-bnn predict} and the app ({@code ser_bnn.online.Tracker},
 * {@code ser_bnn.predict.predict_file}): a speaker's running statistics, used causally and gated.
 * <ol>
 *   <li>{@link #before()}: the model input for the next window, from the statistics accumulated
 *       <em>before</em> it (null for a model without the {@code speaker_stats} input);</li>
 *   <li>run the model;</li>
 *   <li>{@link #after}: the window is speech when the model has no gating output, or when
 *       {@code speech_frames >= gating.min_speech_frames}; only then is it classified (pooled, shown) and
 *       its {@code window_stats} added ({@link SpeakerStats#add}: with the cap). Windows without speech
 *       change nothing.</li>
 * </ol>
 * Thread-safe. {@link #reset()} ("new speaker") and {@link #replace} start a new generation: a window
 * whose {@link Ticket} comes from an older generation (it was classified with the previous speaker's
 * statistics) still gets its speech decision but does not update the new statistics.
 */
public final class SpeakerStream {
    /** The statistics a window is classified with, and the generation they belong to. */
    public static final class Ticket {
        final long generation;
        /** The {@code speaker_stats} input [1][3][n_mels], or null when the model has none. */
        public final float[][][] input;
        /** The statistics' frame count when the ticket was taken (NaN without statistics). */
        public final double count;

        Ticket(long generation, float[][][] input, double count) {
            this.generation = generation;
            this.input = input;
            this.count = count;
        }
    }

    private final SpeakerStats stats;
    private final boolean takesStats;
    private final SpeakerStatsRule rule;
    private final Gating gating;
    private long generation;
    private long updates;

    /**
     * @param nMels bands of {@code window_stats} / {@code speaker_stats}; 0 for a model with neither
     *     (its windows are never added)
     * @param takesStats whether the model has the {@code speaker_stats} input
     * @param start initial statistics (copied), or null for zeros
     */
    public SpeakerStream(int nMels, boolean takesStats, SpeakerStatsRule rule, Gating gating, SpeakerStats start) {
        if (nMels < 0 || (takesStats && nMels == 0)) {
            throw new IllegalArgumentException("bad band count " + nMels);
        }
        this.stats = nMels > 0 ? new SpeakerStats(nMels) : null;
        this.takesStats = takesStats;
        this.rule = rule != null ? rule : SpeakerStatsRule.defaults();
        this.gating = gating != null ? gating : Gating.defaults();
        if (start != null) {
            if (stats == null) {
                throw new IllegalArgumentException("statistics given for a model without them");
            }
            stats.set(start);
        }
    }

    /**
     * For a model as its sidecar ({@code info}) and, when known, its tensors ({@code roles}, which win:
     * null to trust the sidecar) describe it, from {@code start} (null: zeros).
     */
    public static SpeakerStream forModel(ModelInfo info, TensorRoles roles, SpeakerStats start) {
        boolean takes = roles != null ? roles.takesStats() : info.takesSpeakerStats();
        boolean windows = roles != null ? roles.gated() : info.hasWindowStats();
        int bands = takes || windows ? info.nMels : 0;
        return new SpeakerStream(bands, takes, info.speakerStatsRule(), info.gating(), start);
    }

    /** A stream for a probabilities-only model: no statistics, every window speech. */
    public static SpeakerStream none() {
        return new SpeakerStream(0, false, null, null, null);
    }

    public boolean takesStats() {
        return takesStats;
    }

    public SpeakerStatsRule rule() {
        return rule;
    }

    public Gating gating() {
        return gating;
    }

    /** Step 1: the input for the next window. */
    public synchronized Ticket before() {
        if (stats == null) {
            return new Ticket(generation, null, Double.NaN);
        }
        return new Ticket(generation, takesStats ? stats.toInput() : null, stats.count());
    }

    /** The speech decision of a window's output (true when the model has no gating output). */
    public boolean isSpeech(WindowOutput out) {
        return !out.gated() || gating.isSpeech(out.speechFrames);
    }

    /**
     * Step 3: the speech decision; for a speech window of the current generation its {@code window_stats}
     * are added (with the cap). Returns whether the window is speech.
     */
    public synchronized boolean after(Ticket ticket, WindowOutput out) {
        boolean speech = isSpeech(out);
        if (speech && ticket.generation == generation) {
            add(out);
        }
        return speech;
    }

    /** The update of {@code Tracker.update} without a ticket: add the window if it is speech. */
    public synchronized boolean accept(WindowOutput out) {
        boolean speech = isSpeech(out);
        if (speech) {
            add(out);
        }
        return speech;
    }

    private void add(WindowOutput out) {
        if (stats != null && out.windowStats != null) {
            stats.add(out.windowStats, rule.countCap);
            updates++;
        }
    }

    /** A copy of the current statistics (null for a model without them). */
    public synchronized SpeakerStats snapshot() {
        return stats == null ? null : stats.copy();
    }

    /** Frames accumulated (0 without statistics). */
    public synchronized double count() {
        return stats == null ? 0 : stats.count();
    }

    /** Number of windows added so far (changes whenever the statistics do, except by reset/replace). */
    public synchronized long updates() {
        return updates;
    }

    /** "New speaker": zero statistics (the model's defaults), a new generation. */
    public synchronized void reset() {
        if (stats != null) {
            stats.clear();
        }
        generation++;
    }

    /** Continue from other statistics (a loaded profile), a new generation. */
    public synchronized void replace(SpeakerStats s) {
        if (stats == null) {
            throw new IllegalStateException("the model has no speaker statistics");
        }
        stats.set(s);
        generation++;
    }
}
