package org.serbnn.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.Test;

/**
 * File mode's job ({@link FileClassification}): real WAV bytes through {@link WavStream} and
 * {@link UtteranceClassifier}, the lines the app shows for a result, and one line for each way it fails.
 */
public class FileClassificationTest {
    /** 100 Hz, windows of 10 samples (0.1 s), hop one window: small files, many windows. */
    private static final ModelInfo INFO = new ModelInfo(Arrays.asList("a", "b"), 100, 10, 10);

    /** A clock that advances 30 ms per reading: a classification takes 30 ms. */
    private static final class Ticking implements Clock {
        long now;

        @Override
        public long nowMs() {
            now += 30;
            return now;
        }
    }

    private static FileClassification.Source wav(int rate, int channels, short[] interleaved) {
        final byte[] bytes = new TestFiles.Wav().fmt(1, channels, rate, 16).data16(interleaved).bytes();
        return bytes(bytes);
    }

    private static FileClassification.Source bytes(final byte[] b) {
        return new FileClassification.Source() {
            @Override
            public InputStream open() {
                return new ByteArrayInputStream(b);
            }
        };
    }

    /** {@code n} samples of 16384 (0.5) at mono. */
    private static short[] constant(int n) {
        short[] x = new short[n];
        Arrays.fill(x, (short) 16384);
        return x;
    }

    private static FileClassification.Outcome run(FileClassification.Source source, ModelRunner runner) {
        return FileClassification.run("x.wav", source, runner, INFO, null, new Ticking());
    }

    private static final ModelRunner FIRST_SAMPLE = new ClassifierRunner(LiveClassifierTest.FIRST_SAMPLE);

    @Test
    public void aClassifiedFileIsDescribedWindowByWindow() {
        FileClassification.Outcome o = run(wav(100, 1, constant(25)), FIRST_SAMPLE);
        assertTrue(o.classified());
        assertEquals("File: x.wav", o.status);
        assertEquals("a", o.result.label);
        assertEquals("x.wav: 0.25 s, 100 Hz, 1 ch, 3 window(s) run, 3 classified (speech), 10 ms/window\n"
                + "  window 0 @ 0.00 s: a 0.50\n"
                + "  window 1 @ 0.10 s: a 0.50\n"
                + "  window 2 @ 0.20 s: a 0.50\n"
                + "note: " + o.result.notes.get(0) + "\n"
                + "scores: pooled (max) over the speech windows, renormalised (as ser-bnn predict)", o.details);
        assertEquals(1, o.result.notes.size());
        assertTrue(o.result.notes.get(0), o.result.notes.get(0).contains("short input"));
    }

    @Test
    public void longFilesListTheFirstWindowsAndResampledStereoSaysSo() {
        FileClassification.Outcome o = run(wav(200, 2, constant(2 * 2 * 450)), FIRST_SAMPLE); // 4.5 s
        assertTrue(o.status, o.classified());
        String[] lines = o.details.split("\n");
        assertTrue(lines[0], lines[0].startsWith("x.wav: 4.50 s, 200 Hz (resampled), 2 ch, 45 window(s) run, "
                + "45 classified (speech), 0 ms/window"));
        assertEquals("  window 39 @ 3.90 s: a 0.50", lines[StatusText.MAX_WINDOW_LINES]);
        assertEquals("  … 5 more window(s)", lines[StatusText.MAX_WINDOW_LINES + 1]);
        assertEquals(StatusText.MAX_WINDOW_LINES + 3, lines.length);
    }

    @Test
    public void aFileWithoutSpeechShowsNoEmotion() {
        ModelInfo gated = new ModelInfo(Arrays.asList("a", "b"), 100, 10, 10, 2, null, null, null, Gating.defaults());
        ModelRunner quiet = new ModelRunner() {
            @Override
            public WindowOutput run(float[] window, float[][][] speakerStats) {
                return new WindowOutput(new float[] {0.5f, 0.5f}, new float[][] {{3, 3}, {0, 0}, {0, 0}}, 3f);
            }
        };
        FileClassification.Outcome o = FileClassification.run("x.wav", wav(100, 1, constant(150)), quiet, gated, null,
                new Ticking());
        assertTrue(o.classified());
        assertTrue(o.result.noSpeech());
        assertEquals("File: x.wav", o.status);
        assertTrue(o.details, o.details.contains("  window 0 @ 0.00 s: no speech (3 speech frames)\n"));
        assertTrue(o.details, o.details.endsWith("\nno window has speech: no emotion (as ser-bnn predict)"));
    }

    @Test
    public void failuresBecomeOneLine() {
        FileClassification.Outcome shortFile = run(wav(100, 1, constant(5)), FIRST_SAMPLE);
        assertFalse(shortFile.classified());
        assertNull(shortFile.details);
        assertEquals("x.wav: too short (0.050 s; need at least 0.1 s)", shortFile.status);
        assertEquals("x.wav: no signal (every sample is zero), nothing to classify",
                run(wav(100, 1, new short[50]), FIRST_SAMPLE).status);
        String notWav = run(bytes("hello, not a wav".getBytes()), FIRST_SAMPLE).status;
        assertTrue(notWav, notWav.startsWith("x.wav: ") && !notWav.startsWith("x.wav: Cannot"));
        assertEquals("Cannot read x.wav: permission denied", run(new FileClassification.Source() {
            @Override
            public InputStream open() throws IOException {
                throw new IOException("permission denied");
            }
        }, FIRST_SAMPLE).status);
        assertEquals("Cannot read x.wav: cannot open x.wav", run(new FileClassification.Source() {
            @Override
            public InputStream open() {
                return null; // a provider that has nothing
            }
        }, FIRST_SAMPLE).status);
        ModelRunner broken = new ModelRunner() {
            @Override
            public WindowOutput run(float[] window, float[][][] speakerStats) {
                throw new IllegalStateException("interpreter closed");
            }
        };
        assertEquals("Classification failed: java.lang.IllegalStateException: interpreter closed",
                run(wav(100, 1, constant(25)), broken).status);
    }
}
