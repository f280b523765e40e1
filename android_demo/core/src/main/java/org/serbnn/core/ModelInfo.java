package org.serbnn.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import org.json.JSONTokener;

/**
 * What the app needs to know about an exported model, read from the files {@code ser-bnn export}
 * writes beside MODEL.tflite: MODEL.labels.txt (one label per line, in output order) and/or the
 * MODEL.json sidecar. When both carry labels they must agree.
 *
 * <p>JSON keys read (first one present wins): labels from {@code labels}, {@code config.labels};
 * sample rate from {@code sample_rate}, {@code features.sample_rate}, {@code config.features.sample_rate};
 * window length from {@code window_samples}, {@code segment_samples}, or {@code segment_frames *
 * hop_length} under {@code features} / {@code config.features}; hop between file-mode windows from
 * {@code hop_samples}, {@code segment_hop_samples}, or {@code segment_hop_frames * hop_length} there.
 * Missing values default to 16 kHz, a 48 000-sample window and a hop of one window (the project's
 * front end and {@code ser-bnn predict}'s default). A JSON {@code null} counts as missing.
 *
 * <p>The JSON is parsed with {@code org.json} (part of Android; on the JVM Debian's
 * libandroid-json-java or Maven's org.json:json). Malformed JSON, trailing characters and values of
 * the wrong type (a label that is not a string, a sample rate that is not an integer) throw
 * {@link IllegalArgumentException} naming the key.
 */
public final class ModelInfo {
    public final List<String> labels;
    public final int sampleRate;
    public final int windowSamples;
    public final int hopSamples;

    public ModelInfo(List<String> labels, int sampleRate, int windowSamples, int hopSamples) {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("need at least 2 labels, got " + labels.size());
        }
        if (sampleRate <= 0 || windowSamples <= 0 || hopSamples <= 0) {
            throw new IllegalArgumentException("bad sample rate / window / hop: " + sampleRate + ", "
                    + windowSamples + ", " + hopSamples);
        }
        this.labels = Collections.unmodifiableList(new ArrayList<String>(labels));
        this.sampleRate = sampleRate;
        this.windowSamples = windowSamples;
        this.hopSamples = hopSamples;
    }

    public int numClasses() {
        return labels.size();
    }

    public String label(int index) {
        return labels.get(index);
    }

    /** Build from the text of MODEL.labels.txt and/or MODEL.json (either may be null, not both). */
    public static ModelInfo fromSidecars(String labelsTxt, String json) {
        List<String> fromTxt = labelsTxt == null ? null : parseLabels(labelsTxt);
        JSONObject root = json == null ? null : parseObject(json);
        List<String> fromJson = null;
        int rate = Windowing.SAMPLE_RATE;
        int window = Windowing.WINDOW_SAMPLES;
        int hop = -1;
        if (root != null) {
            Object l = first(root, "labels", "config.labels");
            if (l != null) {
                if (!(l instanceof JSONArray)) {
                    throw new IllegalArgumentException("labels: expected a JSON array");
                }
                JSONArray arr = (JSONArray) l;
                fromJson = new ArrayList<String>();
                for (int i = 0; i < arr.length(); i++) {
                    Object label = arr.opt(i);
                    if (!(label instanceof String)) {
                        throw new IllegalArgumentException("labels[" + i + "]: expected a string");
                    }
                    fromJson.add((String) label);
                }
                checkLabels(fromJson);
            }
            Object r = first(root, "sample_rate", "features.sample_rate", "config.features.sample_rate");
            if (r != null) {
                rate = asInt(r, "sample_rate");
            }
            Object w = first(root, "window_samples", "segment_samples");
            Object h = first(root, "hop_samples", "segment_hop_samples");
            for (String base : new String[] {"features", "config.features"}) {
                Object frameHop = path(root, base + ".hop_length");
                if (frameHop == null) {
                    continue;
                }
                int fh = asInt(frameHop, "hop_length");
                Object frames = path(root, base + ".segment_frames");
                Object hopFrames = path(root, base + ".segment_hop_frames");
                if (w == null && frames != null) {
                    window = asInt(frames, "segment_frames") * fh;
                }
                if (h == null && hopFrames != null) {
                    hop = asInt(hopFrames, "segment_hop_frames") * fh;
                }
                break;
            }
            if (w != null) {
                window = asInt(w, "window_samples");
            }
            if (h != null) {
                hop = asInt(h, "hop_samples");
            }
        }
        if (fromTxt == null && fromJson == null) {
            throw new IllegalArgumentException("no labels: need MODEL.labels.txt or \"labels\" in MODEL.json");
        }
        if (fromTxt != null && fromJson != null && !fromTxt.equals(fromJson)) {
            throw new IllegalArgumentException("labels file " + fromTxt + " and JSON sidecar " + fromJson + " disagree");
        }
        return new ModelInfo(fromTxt != null ? fromTxt : fromJson, rate, window, hop > 0 ? hop : window);
    }

    /** Parse a labels file: one label per line, in output order; trailing blank lines ignored. */
    public static List<String> parseLabels(String text) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String[] lines = text.split("\n", -1);
        int end = lines.length;
        while (end > 0 && lines[end - 1].trim().isEmpty()) {
            end--;
        }
        List<String> out = new ArrayList<String>();
        for (int i = 0; i < end; i++) {
            String label = lines[i].trim();
            if (label.isEmpty()) {
                throw new IllegalArgumentException("labels file: empty line " + (i + 1));
            }
            out.add(label);
        }
        checkLabels(out);
        return out;
    }

    private static void checkLabels(List<String> labels) {
        Set<String> seen = new HashSet<String>();
        for (String l : labels) {
            if (!seen.add(l)) {
                throw new IllegalArgumentException("duplicate label '" + l + "'");
            }
        }
    }

    /** The sidecar's top-level object; the whole text must be that one JSON value. */
    private static JSONObject parseObject(String json) {
        try {
            JSONTokener tokens = new JSONTokener(json);
            Object root = tokens.nextValue();
            if (tokens.nextClean() != 0) {
                throw new IllegalArgumentException("invalid JSON sidecar: trailing characters");
            }
            if (!(root instanceof JSONObject)) {
                throw new IllegalArgumentException("model sidecar: expected a JSON object");
            }
            return (JSONObject) root;
        } catch (JSONException e) {
            throw new IllegalArgumentException("invalid JSON sidecar: " + e.getMessage(), e);
        }
    }

    private static int asInt(Object v, String what) {
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException(what + ": expected a number");
        }
        double d = ((Number) v).doubleValue();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": expected an integer, got " + v);
        }
        return (int) d;
    }

    /** Follow a dotted path of object keys ("features.sample_rate"); null if a step is missing or null. */
    private static Object path(JSONObject root, String dotted) {
        Object cur = root;
        for (String key : dotted.split("\\.")) {
            if (!(cur instanceof JSONObject)) {
                return null;
            }
            cur = ((JSONObject) cur).opt(key);
        }
        return cur == JSONObject.NULL ? null : cur;
    }

    private static Object first(JSONObject root, String... paths) {
        for (String p : paths) {
            Object v = path(root, p);
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
