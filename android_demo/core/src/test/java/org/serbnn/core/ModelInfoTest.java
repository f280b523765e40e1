package org.serbnn.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
    public void miniJsonParsesTheGrammar() {
        Object v = MiniJson.parse(" {\"a\": [1, -2.5e2, 0.125, true, false, null, \"q\\\"\\u00e9\\n\"], \"b\": {}} ");
        Map<String, Object> m = MiniJson.asObject(v, "root");
        List<Object> a = MiniJson.asArray(m.get("a"), "a");
        assertEquals(1.0, MiniJson.asNumber(a.get(0), "0"), 0);
        assertEquals(-250.0, MiniJson.asNumber(a.get(1), "1"), 0);
        assertEquals(0.125, MiniJson.asNumber(a.get(2), "2"), 0);
        assertEquals(Boolean.TRUE, a.get(3));
        assertEquals(Boolean.FALSE, a.get(4));
        assertEquals(null, a.get(5));
        assertEquals("q\"\u00e9\n", a.get(6));
        assertTrue(MiniJson.asObject(m.get("b"), "b").isEmpty());
        assertEquals(a, MiniJson.path(v, "a"));
        assertEquals(null, MiniJson.path(v, "b.c.d"));
    }

    @Test
    public void miniJsonRejectsMalformedInput() {
        String[] bad = {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"abc", "[1] x", "{'a': 1}", "\"\\x\""};
        for (String s : bad) {
            try {
                MiniJson.parse(s);
                fail("accepted " + s);
            } catch (MiniJson.JsonException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON"));
            }
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
