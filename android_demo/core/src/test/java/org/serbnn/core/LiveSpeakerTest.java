package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.Test;

/** Live mode with the statistics interface: stats-before input, gating, updates shared across sessions. */
public class LiveSpeakerTest {
    /**
     * A stand-in model: the window's first sample v gives speech_frames 100 v, window_stats of 100 v frames
     * of value 1, probabilities {v, 1 - v}; records the statistics input of every call.
     */
    static final class StandIn implements ModelRunner {
        final List<Float> countsSeen = new ArrayList<Float>();

        @Override
        public WindowOutput run(float[] window, float[][][] speakerStats) {
            countsSeen.add(speakerStats[0][0][0]);
            float v = window[0];
            float frames = 100 * v;
            float[][] ws = {{frames, frames}, {frames, frames}, {frames, frames}};
            return new WindowOutput(new float[] {v, 1 - v}, ws, frames);
        }
    }

    private static float[] chunk(float value, int n) {
        float[] x = new float[n];
        java.util.Arrays.fill(x, value);
        return x;
    }

    @Test
    public void nonSpeechWindowsAreShownAsNoSpeechAndChangeNothing() {
        LiveClassifierTest.QueueExecutor ex = new LiveClassifierTest.QueueExecutor();
        LiveClassifierTest.Recorder out = new LiveClassifierTest.Recorder();
        StandIn model = new StandIn();
        SpeakerStream speaker = new SpeakerStream(2, true, null, Gating.defaults(), null);
        LiveClassifier live = new LiveClassifier(model, speaker, 2, ex, out);
        LiveWindower a = new LiveWindower(2, 2, 1);
        live.begin(a, PosteriorSmoother.max());

        live.push(a, chunk(0.1f, 2), 2); // 10 speech frames: not speech
        ex.runAll();
        LiveClassifier.Update u0 = out.updates.get(0);
        assertFalse(u0.speech);
        assertNull("nothing to show yet", u0.shown);
        assertEquals(-1, u0.best);
        assertEquals(0, u0.windows);
        assertEquals(0.0, u0.statsCount, 0.0);
        assertEquals(10f, u0.speechFrames, 0f);

        live.push(a, chunk(0.5f, 2), 2); // 50 speech frames: speech
        ex.runAll();
        LiveClassifier.Update u1 = out.updates.get(1);
        assertTrue(u1.speech);
        assertArrayEquals(new float[] {0.5f, 0.5f}, u1.shown, 0f);
        assertEquals(1, u1.windows);
        assertEquals(50.0, u1.statsCount, 0.0);

        live.push(a, chunk(0.2f, 2), 2); // 20: not speech; the decision so far stays, the statistics too
        ex.runAll();
        LiveClassifier.Update u2 = out.updates.get(2);
        assertFalse(u2.speech);
        assertArrayEquals(new float[] {0.5f, 0.5f}, u2.shown, 0f);
        assertEquals(1, u2.windows);
        assertEquals(50.0, u2.statsCount, 0.0);

        // a new session (live mode restarted) continues the same speaker's statistics
        LiveWindower b = new LiveWindower(2, 2, 1);
        live.begin(b, PosteriorSmoother.max());
        live.push(b, chunk(0.9f, 2), 2);
        ex.runAll();
        assertEquals(140.0, out.updates.get(3).statsCount, 1e-5);
        // each window was run with the statistics before it
        assertEquals(java.util.Arrays.asList(0f, 0f, 50f, 50f), model.countsSeen);

        // new speaker: back to zero for the next window
        speaker.reset();
        live.push(b, chunk(0.3f, 2), 2);
        ex.runAll();
        assertEquals(0f, model.countsSeen.get(4), 0f);
        assertEquals(30.0, out.updates.get(4).statsCount, 1e-5);
    }

    @Test
    public void badWindowStatsStopTheSessionWithAMessage() {
        LiveClassifierTest.QueueExecutor ex = new LiveClassifierTest.QueueExecutor();
        LiveClassifierTest.Recorder out = new LiveClassifierTest.Recorder();
        ModelRunner nan = new ModelRunner() {
            @Override
            public WindowOutput run(float[] window, float[][][] speakerStats) {
                float[][] ws = {{300, 300}, {Float.NaN, 1}, {1, 1}};
                return new WindowOutput(new float[] {0.5f, 0.5f}, ws, 300f);
            }
        };
        SpeakerStream speaker = new SpeakerStream(2, true, null, null, null);
        LiveClassifier live = new LiveClassifier(nan, speaker, 2, ex, out);
        LiveWindower s = new LiveWindower(2, 2, 1);
        live.begin(s, PosteriorSmoother.max());
        live.push(s, chunk(0.5f, 2), 2);
        ex.runAll();
        assertEquals(1, out.errors.size());
        assertTrue(out.errors.get(0), out.errors.get(0).contains("NaN or infinity"));
        assertEquals("the profile is not spoiled", 0.0, speaker.count(), 0.0);
    }
}
