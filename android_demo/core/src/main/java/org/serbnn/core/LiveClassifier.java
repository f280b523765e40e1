package org.serbnn.core;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Live mode's inference jobs, tied to a session (one {@link LiveWindower} per start of live mode).
 *
 * <p>The recorder thread calls {@link #push}; each window that becomes due queues one job on the
 * inference executor, which runs the newest waiting window through the model with the speaker's
 * statistics accumulated before it ({@link SpeakerStream}, shared across sessions: the app's speaker
 * profile). A speech window updates the statistics and the smoother; a window without speech changes
 * neither and is reported with {@link Update#speech} false (the app shows {@value Gating#NO_SPEECH}).
 * Guarantees:
 * <ul>
 *   <li>Nothing throws into the recorder or inference thread: a job the executor refuses (it has shut
 *       down) is dropped; an exception from the classifier ends that session's inference and is
 *       reported once through {@link Listener#onLiveError}.</li>
 *   <li>Samples and jobs of a session that is no longer current (live mode stopped or restarted) are
 *       ignored, and every {@link Update} names its session: the UI shows it only if
 *       {@link #isCurrent(Update)} still holds when it arrives.</li>
 * </ul>
 */
public final class LiveClassifier {
    /** Called on the inference thread; post to the UI thread and check {@link #isCurrent} there. */
    public interface Listener {
        void onLiveUpdate(Update update);

        void onLiveError(LiveWindower session, String message);
    }

    /** The decision after one window. */
    public static final class Update {
        public final LiveWindower session;
        /** Whether this window is speech (classified); false: show {@value Gating#NO_SPEECH}. */
        public final boolean speech;
        /** The model's speech frames for this window (NaN for a model without gating). */
        public final float speechFrames;
        /** Frames in the speaker statistics after this window (0 for a model without statistics). */
        public final double statsCount;
        /**
         * The smoothed (or max-pooled, or latest) probabilities of the speech windows so far; null when no
         * window of this smoother's run was speech yet.
         */
        public final float[] shown;
        /** Arg-max of {@link #shown}, -1 when it is null. */
        public final int best;
        /** Windows classified in this smoother's run. */
        public final int windows;
        /** Windows dropped because inference fell behind. */
        public final long dropped;
        public final long inferenceMs;
        /** Audio received in this session, in samples. */
        public final long samples;

        Update(LiveWindower session, boolean speech, float speechFrames, double statsCount, float[] shown, int best,
                int windows, long dropped, long inferenceMs, long samples) {
            this.session = session;
            this.speech = speech;
            this.speechFrames = speechFrames;
            this.statsCount = statsCount;
            this.shown = shown;
            this.best = best;
            this.windows = windows;
            this.dropped = dropped;
            this.inferenceMs = inferenceMs;
            this.samples = samples;
        }
    }

    private final ModelRunner runner;
    private final SpeakerStream speaker;
    private final int numClasses;
    private final Executor executor;
    private final Listener listener;
    private volatile LiveWindower current;
    private volatile LiveWindower failed;
    private volatile PosteriorSmoother smoother;

    /** A probabilities-only model: no statistics, every window is speech. */
    public LiveClassifier(Classifier classifier, int numClasses, Executor executor, Listener listener) {
        this(new ClassifierRunner(classifier), SpeakerStream.none(), numClasses, executor, listener);
    }

    /**
     * @param speaker the speaker's statistics and gating rule, updated by every speech window (kept across
     *     sessions; the app persists it)
     */
    public LiveClassifier(ModelRunner runner, SpeakerStream speaker, int numClasses, Executor executor,
            Listener listener) {
        if (runner == null || speaker == null) {
            throw new IllegalArgumentException("runner and speaker stream are required");
        }
        this.runner = runner;
        this.speaker = speaker;
        this.numClasses = numClasses;
        this.executor = executor;
        this.listener = listener;
    }

    public SpeakerStream speaker() {
        return speaker;
    }

    /** Make {@code session} the current one (UI thread), with a fresh smoother. */
    public void begin(LiveWindower session, PosteriorSmoother smoother) {
        this.smoother = smoother;
        this.current = session;
    }

    /** No session is current any more: pending jobs and late samples are ignored. */
    public void end() {
        current = null;
    }

    /** Replace the smoother of the running session (decision mode changed). */
    public void setSmoother(PosteriorSmoother smoother) {
        this.smoother = smoother;
    }

    public boolean isCurrent(LiveWindower session) {
        return session != null && session == current;
    }

    /** True if {@code update} comes from the session that is current now. */
    public boolean isCurrent(Update update) {
        return isCurrent(update.session);
    }

    /** Recorder thread: feed samples of {@code session}; queues one job per due window. Never throws. */
    public void push(final LiveWindower session, float[] samples, int count) {
        if (!isCurrent(session) || session == failed) {
            return; // a stopped recorder's last chunk, or a session whose inference failed
        }
        int due = session.push(samples, 0, count);
        for (int i = 0; i < due; i++) {
            try {
                executor.execute(new Runnable() {
                    @Override
                    public void run() {
                        classifyNext(session);
                    }
                });
            } catch (RejectedExecutionException e) {
                return; // the executor has shut down (the activity is gone): nothing to show any more
            }
        }
    }

    /** One job: classify the newest waiting window of {@code session}, if it is still current. */
    void classifyNext(LiveWindower session) {
        float[] window = session.poll();
        if (window == null || !isCurrent(session) || session == failed) {
            return; // superseded by a newer window, or live mode stopped / restarted / failed
        }
        WindowOutput out;
        boolean speech;
        long t0 = System.nanoTime();
        try {
            SpeakerStream.Ticket ticket = speaker.before();
            out = runner.run(window, ticket.input);
            float[] p = out == null ? null : out.probabilities;
            if (p == null || p.length != numClasses) {
                throw new IllegalStateException("model returned " + (p == null ? "nothing" : p.length
                        + " probabilities") + " for " + numClasses + " labels");
            }
            speech = speaker.after(ticket, out); // adds a speech window's statistics (refuses bad ones)
        } catch (RuntimeException e) {
            failed = session;
            listener.onLiveError(session, "Inference failed: " + e);
            return;
        }
        long ms = (System.nanoTime() - t0) / 1000000L;
        PosteriorSmoother s = smoother;
        float[] shown = speech ? s.update(out.probabilities) : s.current();
        listener.onLiveUpdate(new Update(session, speech, out.speechFrames, speaker.count(), shown,
                shown == null ? -1 : Pooling.argmax(shown), s.count(), session.dropped(), ms, session.totalSamples()));
    }
}
