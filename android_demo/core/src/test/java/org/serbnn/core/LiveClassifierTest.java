package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/** Live inference jobs: session checks, stale results, and no exception escaping into a thread. */
public class LiveClassifierTest {
    /** Runs jobs when told to, like a single inference thread that is busy. */
    static final class QueueExecutor implements Executor {
        final List<Runnable> queued = new ArrayList<Runnable>();

        @Override
        public void execute(Runnable r) {
            queued.add(r);
        }

        void runAll() {
            List<Runnable> now = new ArrayList<Runnable>(queued);
            queued.clear();
            for (Runnable r : now) {
                r.run();
            }
        }
    }

    static final class Recorder implements LiveClassifier.Listener {
        final List<LiveClassifier.Update> updates = new ArrayList<LiveClassifier.Update>();
        final List<String> errors = new ArrayList<String>();
        final List<LiveWindower> errorSessions = new ArrayList<LiveWindower>();

        @Override
        public synchronized void onLiveUpdate(LiveClassifier.Update u) {
            updates.add(u);
        }

        @Override
        public synchronized void onLiveError(LiveWindower session, String message) {
            errors.add(message);
            errorSessions.add(session);
        }
    }

    /** Probabilities from the window's first sample, so results can be traced to their audio. */
    static final Classifier FIRST_SAMPLE = new Classifier() {
        @Override
        public float[] classify(float[] w) {
            return new float[] {w[0], 1f - w[0]};
        }
    };

    private static float[] chunk(float value, int n) {
        float[] x = new float[n];
        java.util.Arrays.fill(x, value);
        return x;
    }

    @Test
    public void updatesNameTheirSessionAndGoStaleWhenLiveModeRestarts() {
        QueueExecutor ex = new QueueExecutor();
        Recorder out = new Recorder();
        LiveClassifier live = new LiveClassifier(FIRST_SAMPLE, 2, ex, out);
        LiveWindower a = new LiveWindower(4, 4, 1);
        live.begin(a, PosteriorSmoother.exponential(1f));
        live.push(a, chunk(0.25f, 4), 4);
        ex.runAll();
        assertEquals(1, out.updates.size());
        LiveClassifier.Update ua = out.updates.get(0);
        assertSame(a, ua.session);
        assertArrayEquals(new float[] {0.25f, 0.75f}, ua.shown, 0f);
        assertEquals(1, ua.best);
        assertEquals(4, ua.samples);
        assertTrue(live.isCurrent(ua));

        // a restart while A's update is still on its way to the UI: it must not be shown
        LiveWindower b = new LiveWindower(4, 4, 1);
        live.begin(b, PosteriorSmoother.exponential(1f));
        assertFalse(live.isCurrent(ua));

        // a job of A queued before the restart runs after it: no classification, no update
        live.begin(a, PosteriorSmoother.exponential(1f));
        live.push(a, chunk(0.5f, 4), 4);
        live.begin(b, PosteriorSmoother.exponential(1f));
        ex.runAll();
        assertEquals(1, out.updates.size());

        // the old recorder's last chunk after the restart does not reach any session
        long before = a.totalSamples();
        live.push(a, chunk(0.5f, 4), 4);
        assertEquals(before, a.totalSamples());
        assertTrue(ex.queued.isEmpty());

        live.push(b, chunk(0.75f, 4), 4);
        ex.runAll();
        assertEquals(2, out.updates.size());
        assertTrue(live.isCurrent(out.updates.get(1)));
        live.end();
        assertFalse(live.isCurrent(out.updates.get(1)));
    }

    @Test
    public void interpreterErrorIsReportedOnceAndEndsTheSessionsInference() {
        final int[] calls = {0};
        Classifier broken = new Classifier() {
            @Override
            public float[] classify(float[] w) {
                calls[0]++;
                throw new IllegalArgumentException("Internal error: Failed to run on the given Interpreter");
            }
        };
        QueueExecutor ex = new QueueExecutor();
        Recorder out = new Recorder();
        LiveClassifier live = new LiveClassifier(broken, 2, ex, out);
        LiveWindower s = new LiveWindower(4, 2, 3);
        live.begin(s, PosteriorSmoother.max());
        live.push(s, chunk(0.1f, 8), 8); // four windows due, three kept waiting
        ex.runAll(); // must not throw
        assertEquals(1, calls[0]);
        assertEquals(1, out.errors.size());
        assertTrue(out.errors.get(0), out.errors.get(0).startsWith("Inference failed: "));
        assertSame(s, out.errorSessions.get(0));
        assertTrue(out.updates.isEmpty());
        live.push(s, chunk(0.1f, 8), 8);
        ex.runAll();
        assertEquals(1, calls[0]);
    }

    @Test
    public void wrongNumberOfProbabilitiesIsAnErrorNotACrash() {
        QueueExecutor ex = new QueueExecutor();
        Recorder out = new Recorder();
        LiveClassifier live = new LiveClassifier(FIRST_SAMPLE, 3, ex, out);
        LiveWindower s = new LiveWindower(2, 2, 1);
        live.begin(s, PosteriorSmoother.max());
        live.push(s, chunk(0.1f, 2), 2);
        ex.runAll();
        assertEquals(1, out.errors.size());
        assertTrue(out.errors.get(0), out.errors.get(0).contains("3 labels"));
    }

    @Test
    public void workRefusedByAShutDownExecutorIsDropped() {
        Executor refusing = new Executor() {
            @Override
            public void execute(Runnable r) {
                throw new RejectedExecutionException("shut down");
            }
        };
        Recorder out = new Recorder();
        LiveClassifier live = new LiveClassifier(FIRST_SAMPLE, 2, refusing, out);
        LiveWindower s = new LiveWindower(2, 1, 1);
        live.begin(s, PosteriorSmoother.max());
        live.push(s, chunk(0.1f, 10), 10); // must not throw into the recorder thread
        assertTrue(out.updates.isEmpty() && out.errors.isEmpty());
    }

    @Test
    public void realExecutorShutDownMidStream() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        Recorder out = new Recorder();
        LiveClassifier live = new LiveClassifier(FIRST_SAMPLE, 2, ex, out);
        LiveWindower s = new LiveWindower(4, 2, 1);
        live.begin(s, PosteriorSmoother.exponential(0.3f));
        for (int i = 0; i < 50; i++) {
            if (i == 25) {
                ex.shutdown();
            }
            live.push(s, chunk(i / 50f, 3), 3);
        }
        assertTrue(ex.awaitTermination(5, TimeUnit.SECONDS));
        assertTrue(out.errors.isEmpty());
    }

    @Test
    public void smootherCanBeSwappedDuringASession() {
        QueueExecutor ex = new QueueExecutor();
        Recorder out = new Recorder();
        LiveClassifier live = new LiveClassifier(FIRST_SAMPLE, 2, ex, out);
        LiveWindower s = new LiveWindower(1, 1, 1);
        live.begin(s, PosteriorSmoother.max());
        live.push(s, new float[] {0.9f}, 1);
        ex.runAll();
        live.setSmoother(PosteriorSmoother.exponential(1f));
        live.push(s, new float[] {0.2f}, 1);
        ex.runAll();
        assertArrayEquals(new float[] {0.2f, 0.8f}, out.updates.get(1).shown, 0f);
        assertEquals(1, out.updates.get(1).windows);
    }
}
