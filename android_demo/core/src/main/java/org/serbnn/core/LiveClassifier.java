package org.serbnn.core;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Live mode's inference jobs, tied to a session (one {@link LiveWindower} per start of live mode).
 *
 * <p>The recorder thread calls {@link #push}; each window that becomes due queues one job on the
 * inference executor, which classifies the newest waiting window and smooths it. Guarantees:
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
        /** The smoothed (or max-pooled, or latest) probabilities. */
        public final float[] shown;
        public final int best;
        /** Windows classified in this smoother's run. */
        public final int windows;
        /** Windows dropped because inference fell behind. */
        public final long dropped;
        public final long inferenceMs;
        /** Audio received in this session, in samples. */
        public final long samples;

        Update(LiveWindower session, float[] shown, int best, int windows, long dropped, long inferenceMs,
                long samples) {
            this.session = session;
            this.shown = shown;
            this.best = best;
            this.windows = windows;
            this.dropped = dropped;
            this.inferenceMs = inferenceMs;
            this.samples = samples;
        }
    }

    private final Classifier classifier;
    private final int numClasses;
    private final Executor executor;
    private final Listener listener;
    private volatile LiveWindower current;
    private volatile LiveWindower failed;
    private volatile PosteriorSmoother smoother;

    public LiveClassifier(Classifier classifier, int numClasses, Executor executor, Listener listener) {
        this.classifier = classifier;
        this.numClasses = numClasses;
        this.executor = executor;
        this.listener = listener;
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
        float[] p;
        long t0 = System.nanoTime();
        try {
            p = classifier.classify(window);
            if (p == null || p.length != numClasses) {
                throw new IllegalStateException("model returned " + (p == null ? "nothing" : p.length
                        + " probabilities") + " for " + numClasses + " labels");
            }
        } catch (RuntimeException e) {
            failed = session;
            listener.onLiveError(session, "Inference failed: " + e);
            return;
        }
        long ms = (System.nanoTime() - t0) / 1000000L;
        PosteriorSmoother s = smoother;
        float[] shown = s.update(p);
        listener.onLiveUpdate(new Update(session, shown, Pooling.argmax(shown), s.count(), session.dropped(), ms,
                session.totalSamples()));
    }
}
