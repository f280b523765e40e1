package org.serbnn.core;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A worker thread running one blocking loop (the app's microphone reader), stopped without waiting.
 *
 * <p>{@link #stop()} only clears the running flag and returns at once, so it is safe on the UI thread:
 * the body sees {@link #isRunning()} turn false after its current blocking call, releases what it holds
 * and ends on its own thread. A loop given a {@code previous} loop first waits, on its own thread and
 * for at most {@code waitForPreviousMs}, for that one to finish, so a restart never opens the
 * microphone while the old loop still holds it, and the UI thread never waits. A loop stopped before its
 * body began never runs the body. A {@link RuntimeException} from the body ends the loop and goes to
 * {@link Body#failed}, never to the thread's uncaught-exception handler (which would kill the app).
 */
public final class BackgroundLoop {
    /** The work; runs on the loop's thread. */
    public interface Body {
        /** Loop while {@code loop.isRunning()}; return to end. */
        void run(BackgroundLoop loop);

        /** The body threw; called on the loop's thread, after which the loop is finished. */
        void failed(RuntimeException e);
    }

    private final String name;
    private final Body body;
    /** Cleared once waited for, so that a chain of restarts does not keep every old loop reachable. */
    private volatile BackgroundLoop previous;
    private final long waitForPreviousMs;
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean running;
    private volatile boolean bodyStarted;
    private Thread thread;

    public BackgroundLoop(String name, Body body, BackgroundLoop previous, long waitForPreviousMs) {
        if (body == null) {
            throw new IllegalArgumentException("body is null");
        }
        this.name = name;
        this.body = body;
        this.previous = previous;
        this.waitForPreviousMs = waitForPreviousMs;
    }

    /** Start the thread (once). */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException(name + " already started");
        }
        running = true;
        thread = new Thread(new Runnable() {
            @Override
            public void run() {
                runLoop();
            }
        }, name);
        thread.start();
    }

    /** Ask the loop to end; never blocks. */
    public void stop() {
        running = false;
    }

    public boolean isRunning() {
        return running;
    }

    /** True once the body has begun (false if the loop was stopped while waiting for its predecessor). */
    public boolean bodyStarted() {
        return bodyStarted;
    }

    /** True once the thread has ended (or was never started and stopped: see {@link #awaitFinished}). */
    public boolean isFinished() {
        return finished.getCount() == 0;
    }

    /** Wait up to {@code ms} for the thread to end; for background threads and tests, never the UI. */
    public boolean awaitFinished(long ms) throws InterruptedException {
        synchronized (this) {
            if (thread == null) {
                return true; // never started: holds nothing
            }
        }
        return finished.await(ms, TimeUnit.MILLISECONDS);
    }

    private void runLoop() {
        try {
            BackgroundLoop before = previous;
            if (before != null) {
                try {
                    before.awaitFinished(waitForPreviousMs); // if it is stuck, try anyway: the body reports failures
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } finally {
                    previous = null;
                }
            }
            if (running) {
                bodyStarted = true;
                body.run(this);
            }
        } catch (RuntimeException e) {
            running = false;
            body.failed(e);
        } finally {
            running = false;
            finished.countDown();
        }
    }
}
