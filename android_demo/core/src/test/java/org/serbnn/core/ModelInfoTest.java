package org.serbnn.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class ModelInfoTest {
    @Test
    public void labelsFileOnePerLine() {
        List<String> l = ModelInfo.parseLabels("\uFEFFanger\r\nboredom\nneutral\n\n");
        assertEquals(Arrays.asList("anger", "boredom", "neutral"), l);
    }

    @Test
    public void labelsFileErrors() {
        expectBad("a\n\nb\n", "empty line 2");
        expectBad("a\nb\na\n", "duplicate label 'a'");
    }

    @Test
    public void jsonSidecarVariants() {
        ModelInfo top = ModelInfo.fromSidecars(null,
                "{\"labels\": [\"anger\", \"sadness\"], \"sample_rate\": 16000, \"window_samples\": 48000,"
                        + " \"hop_samples\": 16000}");
        assertEquals(Arrays.asList("anger", "sadness"), top.labels);
        assertEquals(16000, top.sampleRate);
        assertEquals(48000, top.windowSamples);
        assertEquals(16000, top.hopSamples);
        assertEquals(Pooling.MAX, top.pooling); // no "pooling": the paper's max
        String geo = "{\"labels\": [\"a\", \"b\"], \"pooling\": \"mean-log\"}";
        assertEquals(Pooling.MEAN_LOG, ModelInfo.fromSidecars(null, geo).pooling);
        try {
            ModelInfo.fromSidecars(null, geo.replace("mean-log", "median"));
            org.junit.Assert.fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertEquals("pooling must be \"max\" or \"mean-log\", got \"median\"", e.getMessage());
        }
        ModelInfo nested = ModelInfo.fromSidecars("x\ny\n",
                "{\"config\": {\"labels\": [\"x\", \"y\"], \"features\": {\"sample_rate\": 8000,"
                        + " \"segment_frames\": 100, \"segment_hop_frames\": 50, \"hop_length\": 80}}}");
        assertEquals(8000, nested.sampleRate);
        assertEquals(8000, nested.windowSamples);
        assertEquals(4000, nested.hopSamples);
        ModelInfo txtOnly = ModelInfo.fromSidecars("a\nb\nc", null);
        assertEquals(3, txtOnly.numClasses());
        assertEquals(48000, txtOnly.windowSamples);
        assertEquals(48000, txtOnly.hopSamples);
        assertEquals("c", txtOnly.label(2));
    }

    @Test
    public void labelsMustAgree() {
        try {
            ModelInfo.fromSidecars("a\nb\n", "{\"labels\": [\"b\", \"a\"]}");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("disagree"));
        }
        try {
            ModelInfo.fromSidecars(null, "{\"sample_rate\": 16000}");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("no labels"));
        }
    }

    @Test
    public void sidecarErrorsNameTheKey() {
        expectBadSidecar("", "invalid JSON sidecar");
        expectBadSidecar("{\"labels\": [\"a\", \"b\"]", "invalid JSON sidecar");
        expectBadSidecar("{\"labels\": [\"a\", \"b\"]} x", "invalid JSON sidecar: trailing characters");
        expectBadSidecar("[\"a\", \"b\"]", "model sidecar: expected a JSON object");
        expectBadSidecar("{\"labels\": \"a,b\"}", "labels: expected a JSON array");
        expectBadSidecar("{\"labels\": [\"a\", 2]}", "labels[1]: expected a string");
        expectBadSidecar("{\"labels\": [\"a\", \"a\"]}", "duplicate label 'a'");
        expectBadSidecar("{\"labels\": [\"a\", \"b\"], \"sample_rate\": \"16000\"}", "sample_rate: expected a number");
        expectBadSidecar("{\"labels\": [\"a\", \"b\"], \"window_samples\": 48000.5}",
                "window_samples: expected an integer, got 48000.5");
        expectBadSidecar("{\"labels\": [\"a\", \"b\"], \"window_samples\": 0}", "bad sample rate / window / hop");
        expectBadSidecar("{\"labels\": [\"a\"]}", "need at least 2 labels");
    }

    @Test
    public void jsonNullCountsAsMissing() {
        ModelInfo m = ModelInfo.fromSidecars(null,
                "{\"labels\": [\"a\", \"b\"], \"sample_rate\": null, \"hop_samples\": null,"
                        + " \"config\": {\"features\": null}}");
        assertEquals(Windowing.SAMPLE_RATE, m.sampleRate);
        assertEquals(Windowing.WINDOW_SAMPLES, m.hopSamples);
    }

    private static void expectBadSidecar(String json, String fragment) {
        try {
            ModelInfo.fromSidecars(null, json);
            fail("accepted " + json);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
        }
    }

    private static void expectBad(String labels, String fragment) {
        try {
            ModelInfo.parseLabels(labels);
            fail("accepted " + labels);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
        }
    }
}
