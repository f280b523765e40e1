package org.serbnn.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;

/** Stopping the recorder loop never waits for it; a successor waits for it on its own thread. */
public class BackgroundLoopTest {
    /** A body like the microphone reader: each "read" blocks until released (60 s at most). */
    static final class BlockingBody implements BackgroundLoop.Body {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean predecessorFinishedAtEntry;
        volatile boolean cleanedUp;
        final BackgroundLoop[] predecessor = new BackgroundLoop[1];
        final AtomicReference<RuntimeException> failure = new AtomicReference<RuntimeException>();

        @Override
        public void run(BackgroundLoop loop) {
            predecessorFinishedAtEntry = predecessor[0] == null || predecessor[0].isFinished();
            entered.countDown();
            try {
                do {
                    release.await(60, TimeUnit.SECONDS); // a blocking read, already under way when stop() comes
                } while (loop.isRunning());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                cleanedUp = true; // AudioRecord.stop() + release()
            }
        }

        @Override
        public void failed(RuntimeException e) {
            failure.set(e);
        }
    }

    @Test
    public void stopReturnsAtOnceWhileTheBodyIsBlocked() throws Exception {
        BlockingBody body = new BlockingBody();
        BackgroundLoop loop = new BackgroundLoop("test", body, null, 0);
        loop.start();
        assertTrue(body.entered.await(5, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        loop.stop();
        long ms = (System.nanoTime() - t0) / 1000000L;
        assertTrue("stop() took " + ms + " ms (the old join waited up to 2000 ms)", ms < 1000);
        assertFalse(loop.isRunning());
        assertFalse("the body is still in its read", loop.isFinished());
        body.release.countDown();
        assertTrue(loop.awaitFinished(5000));
        assertTrue(body.cleanedUp);
    }

    @Test
    public void successorStartsOnlyAfterThePredecessorFinished() throws Exception {
        BlockingBody first = new BlockingBody();
        BackgroundLoop a = new BackgroundLoop("a", first, null, 0);
        a.start();
        assertTrue(first.entered.await(5, TimeUnit.SECONDS));
        a.stop(); // still blocked in its read
        BlockingBody second = new BlockingBody();
        second.predecessor[0] = a;
        BackgroundLoop b = new BackgroundLoop("b", second, a, 10000);
        long t0 = System.nanoTime();
        b.start();
        assertTrue("start() must not wait", (System.nanoTime() - t0) / 1000000L < 1000);
        assertFalse(second.entered.await(200, TimeUnit.MILLISECONDS));
        assertFalse(b.bodyStarted());
        first.release.countDown();
        assertTrue(second.entered.await(5, TimeUnit.SECONDS));
        assertTrue(second.predecessorFinishedAtEntry);
        b.stop();
        second.release.countDown();
        assertTrue(b.awaitFinished(5000));
    }

    @Test
    public void loopStoppedWhileWaitingNeverRunsItsBody() throws Exception {
        BlockingBody first = new BlockingBody();
        BackgroundLoop a = new BackgroundLoop("a", first, null, 0);
        a.start();
        assertTrue(first.entered.await(5, TimeUnit.SECONDS));
        a.stop();
        BlockingBody second = new BlockingBody();
        BackgroundLoop b = new BackgroundLoop("b", second, a, 10000);
        b.start();
        b.stop(); // e.g. the hop slider moved twice quickly
        first.release.countDown();
        assertTrue(b.awaitFinished(5000));
        assertFalse(b.bodyStarted());
        assertEquals(1, second.entered.getCount());
    }

    @Test
    public void stuckPredecessorDelaysTheSuccessorOnlyUpToItsTimeout() throws Exception {
        BlockingBody first = new BlockingBody();
        BackgroundLoop a = new BackgroundLoop("a", first, null, 0);
        a.start();
        assertTrue(first.entered.await(5, TimeUnit.SECONDS));
        a.stop();
        BlockingBody second = new BlockingBody();
        BackgroundLoop b = new BackgroundLoop("b", second, a, 100);
        b.start();
        assertTrue(second.entered.await(5, TimeUnit.SECONDS));
        assertFalse(a.isFinished());
        b.stop();
        first.release.countDown();
        second.release.countDown();
        assertTrue(a.awaitFinished(5000) && b.awaitFinished(5000));
    }

    @Test
    public void exceptionInTheBodyGoesToFailedNotToTheThread() throws Exception {
        final AtomicReference<Throwable> uncaught = new AtomicReference<Throwable>();
        Thread.UncaughtExceptionHandler old = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler(new Thread.UncaughtExceptionHandler() {
            @Override
            public void uncaughtException(Thread t, Throwable e) {
                uncaught.set(e);
            }
        });
        try {
            final IllegalStateException boom = new IllegalStateException("listener bug");
            final AtomicReference<RuntimeException> failed = new AtomicReference<RuntimeException>();
            BackgroundLoop loop = new BackgroundLoop("boom", new BackgroundLoop.Body() {
                @Override
                public void run(BackgroundLoop l) {
                    throw boom;
                }

                @Override
                public void failed(RuntimeException e) {
                    failed.set(e);
                }
            }, null, 0);
            loop.start();
            assertTrue(loop.awaitFinished(5000));
            assertSame(boom, failed.get());
            assertFalse(loop.isRunning());
            assertNull(uncaught.get());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(old);
        }
    }

    @Test
    public void neverStartedLoopCountsAsFinished() throws Exception {
        BackgroundLoop loop = new BackgroundLoop("idle", new BlockingBody(), null, 0);
        loop.stop();
        assertTrue(loop.awaitFinished(0));
    }
}
