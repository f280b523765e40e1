package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Live mode's sessions ({@link LiveMode}): which results reach the views, restarts, microphone and inference
 * errors, profile writes after speech windows, and the hop / decision settings. The microphone is a
 * stand-in that the test feeds; inference and the UI thread are queues the test runs.
 */
public class LiveModeTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** 8 Hz, 4-sample windows, 2 bands: a hop of 0.5 s is one window (4 samples). */
    static final ModelInfo INFO = new ModelInfo(Arrays.asList("a", "b"), 8, 4, 4, 2, null, null,
            SpeakerStatsRule.defaults(), Gating.defaults());

    static final class FakeRecorder implements LiveMode.Recorder {
        final LiveMode.AudioSink sink;
        final LiveMode.Recorder previous;
        final int sampleRate;
        boolean started;
        boolean stopped;

        FakeRecorder(int sampleRate, LiveMode.AudioSink sink, LiveMode.Recorder previous) {
            this.sampleRate = sampleRate;
            this.sink = sink;
            this.previous = previous;
        }

        @Override
        public void start() {
            started = true;
        }

        @Override
        public void stop() {
            stopped = true;
        }

        void feed(float value, int n) {
            float[] x = new float[n];
            Arrays.fill(x, value);
            sink.onSamples(x, n);
        }
    }

    static final class FakeMicrophone implements LiveMode.Microphone {
        final List<FakeRecorder> opened = new ArrayList<FakeRecorder>();

        @Override
        public LiveMode.Recorder open(int sampleRate, LiveMode.AudioSink sink, LiveMode.Recorder previous) {
            FakeRecorder r = new FakeRecorder(sampleRate, sink, previous);
            opened.add(r);
            return r;
        }

        FakeRecorder last() {
            return opened.get(opened.size() - 1);
        }
    }

    static final class Screen implements LiveMode.Display {
        final List<LiveClassifier.Update> windows = new ArrayList<LiveClassifier.Update>();
        final List<String> details = new ArrayList<String>();
        final List<String> speaker = new ArrayList<String>();
        final List<String> errors = new ArrayList<String>();

        @Override
        public void showWindow(LiveClassifier.Update update, String text) {
            windows.add(update);
            details.add(text);
        }

        @Override
        public void showSpeaker(String line) {
            speaker.add(line);
        }

        @Override
        public void stoppedWithError(String message) {
            errors.add(message);
        }
    }

    static final class FakeClock implements Clock {
        long now;

        @Override
        public long nowMs() {
            return now;
        }
    }

    private final LiveClassifierTest.QueueExecutor inference = new LiveClassifierTest.QueueExecutor();
    private final LiveClassifierTest.QueueExecutor ui = new LiveClassifierTest.QueueExecutor();
    private final FakeMicrophone mic = new FakeMicrophone();
    private final Screen screen = new Screen();
    private final FakeClock clock = new FakeClock();

    private SpeakerSession speaker(File profile) {
        return SpeakerSession.open(INFO, null, profile, 1000, clock);
    }

    private LiveMode liveMode(ModelRunner runner, SpeakerSession speaker) {
        return new LiveMode(runner, INFO, speaker, inference, ui, mic, screen);
    }

    private void runThreads() {
        inference.runAll();
        ui.runAll();
    }

    @Test
    public void onlyTheCurrentSessionReachesTheScreen() throws Exception {
        LiveMode live = liveMode(new LiveSpeakerTest.StandIn(), speaker(new File(tmp.getRoot(), "p.json")));
        assertFalse(live.isLive());
        assertEquals("Listening: a window every 0.50 s.", live.start(0.5, LiveMode.Decision.LATEST));
        assertTrue(live.isLive());
        FakeRecorder first = mic.last();
        assertTrue(first.started);
        assertEquals(8, first.sampleRate);
        assertNull(first.previous);

        first.feed(0.5f, 4); // a window every 4 samples: 50 speech frames, speech
        runThreads();
        assertEquals(1, screen.windows.size());
        assertTrue(screen.windows.get(0).speech);
        assertArrayEquals(new float[] {0.5f, 0.5f}, screen.windows.get(0).shown, 0f);
        String d = screen.details.get(0);
        assertTrue(d, d.startsWith("live: speech, 1 speech window(s), 0 dropped, ") && d.endsWith(" ms/window, t=0.5 s"));
        assertEquals("Speaker: 50 frames of speech (0.5 s), default statistics until 100 frames", screen.speaker.get(0));

        first.feed(0.1f, 4); // 10 speech frames: no speech
        runThreads();
        assertFalse(screen.windows.get(1).speech);
        d = screen.details.get(1);
        assertTrue(d, d.startsWith("live: no speech (10 speech frames), 1 speech window(s), 0 dropped, "));

        // a window classified, then live mode restarted before the UI thread gets its result: not shown
        first.feed(0.9f, 4);
        inference.runAll();
        live.stop();
        assertTrue(first.stopped);
        assertFalse(live.isLive());
        live.start(1.0, LiveMode.Decision.MAX);
        FakeRecorder second = mic.last();
        assertSame("the new recorder waits for the old one", first, second.previous);
        ui.runAll();
        assertEquals(2, screen.windows.size());
        // a late chunk of the stopped recorder queues nothing
        first.feed(0.9f, 8);
        assertTrue(inference.queued.isEmpty());
        // the new session: a window every 8 samples (1 s at 8 Hz), its own decision
        second.feed(0.6f, 8);
        runThreads();
        assertEquals(3, screen.windows.size());
        assertEquals(1, screen.windows.get(2).windows);
        assertTrue(screen.errors.isEmpty());
    }

    @Test
    public void aMicrophoneErrorStopsTheCurrentSessionOnce() {
        LiveMode live = liveMode(new LiveSpeakerTest.StandIn(), speaker(new File(tmp.getRoot(), "p.json")));
        live.start(0.25, LiveMode.Decision.SMOOTHED);
        FakeRecorder first = mic.last();
        live.stop();
        live.start(0.25, LiveMode.Decision.SMOOTHED);
        FakeRecorder second = mic.last();
        first.sink.onRecorderError("released"); // the stopped session's recorder: ignored
        ui.runAll();
        assertTrue(live.isLive());
        assertTrue(screen.errors.isEmpty());

        second.sink.onRecorderError("in use by another app");
        second.sink.onRecorderError("read failed");
        assertTrue("reported on the UI thread", screen.errors.isEmpty());
        ui.runAll();
        assertEquals(Arrays.asList("Microphone: in use by another app"), screen.errors);
        assertFalse(live.isLive());
        assertTrue(second.stopped);
    }

    @Test
    public void anInferenceErrorStopsTheSessionWithAMessage() {
        ModelRunner broken = new ModelRunner() {
            @Override
            public WindowOutput run(float[] window, float[][][] speakerStats) {
                throw new IllegalStateException("tensor 2 has shape [1, 3]");
            }
        };
        LiveMode live = liveMode(broken, speaker(new File(tmp.getRoot(), "p.json")));
        live.start(0.25, LiveMode.Decision.SMOOTHED);
        FakeRecorder r = mic.last();
        r.feed(0.5f, 2);
        runThreads();
        assertEquals(Arrays.asList("Inference failed: java.lang.IllegalStateException: tensor 2 has shape [1, 3]"),
                screen.errors);
        assertFalse(live.isLive());
        assertTrue(r.stopped);
        assertTrue(screen.windows.isEmpty());
    }

    @Test
    public void speechWindowsWriteTheProfileWhenDue() throws Exception {
        File f = new File(tmp.getRoot(), "p.json");
        LiveMode live = liveMode(new LiveSpeakerTest.StandIn(), speaker(f));
        live.start(0.5, LiveMode.Decision.SMOOTHED);
        FakeRecorder r = mic.last();
        r.feed(0.1f, 4); // no speech: nothing to write
        runThreads();
        assertFalse(f.exists());
        r.feed(0.5f, 4);
        runThreads();
        assertEquals("the first speech window is written at once", 50.0, SpeakerProfile.load(f, 2).count(), 0.0);
        clock.now = 999;
        r.feed(0.5f, 4);
        runThreads();
        assertEquals("too soon", 50.0, SpeakerProfile.load(f, 2).count(), 0.0);
        clock.now = 1000;
        r.feed(0.5f, 4);
        runThreads();
        assertEquals(150.0, SpeakerProfile.load(f, 2).count(), 0.0);
        assertEquals("Speaker: 150 frames of speech (1.5 s), own statistics in use",
                screen.speaker.get(screen.speaker.size() - 1));
    }

    @Test
    public void aProfileThatCannotBeWrittenIsReportedOnTheSpeakerLine() {
        File f = new File(new File(tmp.getRoot(), "gone"), "p.json"); // its directory does not exist
        LiveMode live = liveMode(new LiveSpeakerTest.StandIn(), speaker(f));
        live.start(0.25, LiveMode.Decision.SMOOTHED);
        mic.last().feed(0.5f, 2);
        runThreads();
        assertEquals(1, screen.windows.size());
        String line = screen.speaker.get(0);
        assertTrue(line, line.startsWith("Cannot write the speaker profile: "));
    }

    @Test
    public void probabilitiesOnlyModelsShowNoSpeakerLine() {
        ModelInfo plain = new ModelInfo(Arrays.asList("a", "b"), 8, 4, 4);
        SpeakerSession none = SpeakerSession.open(plain, null, new File(tmp.getRoot(), "p.json"), 1000, clock);
        LiveMode live = new LiveMode(new ClassifierRunner(LiveClassifierTest.FIRST_SAMPLE), plain, none, inference,
                ui, mic, screen);
        live.start(0.25, LiveMode.Decision.SMOOTHED);
        mic.last().feed(0.25f, 2);
        runThreads();
        assertEquals(1, screen.windows.size());
        assertTrue("every window is speech", screen.windows.get(0).speech);
        assertTrue(screen.speaker.isEmpty());
        assertFalse(new File(tmp.getRoot(), "p.json").exists());
    }

    @Test
    public void hopSliderAndDecisions() {
        assertEquals(0.25, LiveMode.hopSeconds(0), 0.0);
        assertEquals(1.0, LiveMode.hopSeconds(LiveMode.DEFAULT_HOP_STEP), 0.0);
        assertEquals(3.0, LiveMode.hopSeconds(11), 0.0);
        float[] p = {1f, 0f};
        float[] q = {0f, 1f};
        PosteriorSmoother smoothed = LiveMode.Decision.SMOOTHED.newSmoother();
        smoothed.update(p);
        assertArrayEquals(new float[] {0.7f, 0.3f}, smoothed.update(q), 1e-6f);
        PosteriorSmoother max = LiveMode.Decision.MAX.newSmoother();
        max.update(p);
        assertArrayEquals(new float[] {1f, 1f}, max.update(q), 0f);
        PosteriorSmoother latest = LiveMode.Decision.LATEST.newSmoother();
        latest.update(p);
        assertArrayEquals(q, latest.update(q), 0f);
    }
}
