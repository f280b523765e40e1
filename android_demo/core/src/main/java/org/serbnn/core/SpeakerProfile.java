package org.serbnn.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.util.List;
import java.util.Map;

/**
 * A speaker's statistics as JSON, the format of {@code ser-bnn predict --profile}
 * ({@code ser_bnn.online.save_profile} / {@code load_profile}), so that a profile moves between the
 * phone and the command line in both directions:
 * <pre>
 * {"format": "ser-bnn-speaker-stats", "version": 1, "n_mels": 40,
 *  "count": 12345.0, "sum": [40 numbers], "sumsq": [40 numbers]}
 * </pre>
 * Reading parses as strictly as Python's json module ({@link StrictJson}: NaN and Infinity are read, then
 * refused as values) and applies Python's checks in Python's order, with its one-line messages
 * ({@link ProfileException}):
 * not JSON, not an object, another {@code version} (missing = 1), {@code n_mels} (when present) different
 * from the model's bands, missing {@code count} / {@code sum} / {@code sumsq}, list lengths different from
 * the model's bands, NaN or infinity, a negative count or sum of squares. A refused profile changes nothing:
 * {@link #load} returns new statistics only on success and never writes. Numbers are written with
 * {@link Double#toString}, which reads back to the same double (as Python's repr); Python reads them
 * exactly, and this class reads Python's exactly.
 *
 * <p>Differences in wording only, for malformed input that neither side writes: a non-numeric count or a
 * nested list gets a message of its own here (Python's comes from float() / numpy); when only {@code sumsq}
 * has the wrong length, the message names its length (Python's names the length of {@code sum}).
 */
public final class SpeakerProfile {
    public static final String FORMAT = "ser-bnn-speaker-stats";
    public static final int VERSION = 1;
    private static final Charset UTF8 = Charset.forName("UTF-8");

    private SpeakerProfile() {
    }

    /** The profile's JSON text (one line per key, arrays on one line). */
    public static String toJson(SpeakerStats stats) {
        String problem = SpeakerStats.problem(stats.count(), stats.sum(), stats.sumsq());
        if (problem != null) {
            throw new IllegalArgumentException("refusing to write a profile that cannot be read back: " + problem);
        }
        StringBuilder sb = new StringBuilder();
        sb.append("{\"format\": \"").append(FORMAT).append("\",\n \"version\": ").append(VERSION)
                .append(",\n \"n_mels\": ").append(stats.numBands())
                .append(",\n \"count\": ").append(Double.toString(stats.count()))
                .append(",\n \"sum\": ");
        array(sb, stats.sum());
        sb.append(",\n \"sumsq\": ");
        array(sb, stats.sumsq());
        sb.append("}\n");
        return sb.toString();
    }

    private static void array(StringBuilder sb, double[] v) {
        sb.append('[');
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(Double.toString(v[i]));
        }
        sb.append(']');
    }

    /**
     * Parse a profile for a model with {@code nMels} bands; {@code name} (e.g. the file's path) appears in
     * the messages as Python's path does: "profile NAME has 39 Mel bands, the model needs 40".
     */
    public static SpeakerStats fromJson(String text, int nMels, String name) throws ProfileException {
        Object root;
        try {
            root = StrictJson.parse(text);
        } catch (StrictJson.SyntaxException e) {
            throw new ProfileException("profile " + name + " is not JSON");
        }
        if (!(root instanceof Map)) {
            throw new ProfileException("profile " + name + " is not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> d = (Map<String, Object>) root;
        if (d.containsKey("version") && !equalsOne(d.get("version"))) {
            throw new ProfileException("profile " + name + " has version " + pythonRepr(d.get("version"))
                    + ", expected " + VERSION);
        }
        if (d.containsKey("n_mels") && !numberEquals(d.get("n_mels"), nMels)) {
            throw new ProfileException("profile " + name + " has " + pythonStr(d.get("n_mels"))
                    + " Mel bands, the model needs " + nMels);
        }
        try {
            return statsFromDict(d, nMels);
        } catch (IllegalArgumentException e) {
            throw new ProfileException("profile " + name + ": " + e.getMessage());
        }
    }

    /** NormStats.from_dict: count, sum, sumsq, then band count, finite values, signs. */
    private static SpeakerStats statsFromDict(Map<String, Object> d, int nMels) {
        String[] keys = {"count", "sum", "sumsq"};
        for (String k : keys) {
            if (!d.containsKey(k)) {
                throw new IllegalArgumentException("statistics need count, sum and sumsq: '" + k + "'");
            }
        }
        double count = scalar(d.get("count"), "count");
        double[] sum = vector(d.get("sum"), "sum");
        double[] sumsq = vector(d.get("sumsq"), "sumsq");
        if (sum.length != nMels) {
            throw new IllegalArgumentException("statistics have " + sum.length + " bands, the model needs " + nMels);
        }
        if (sumsq.length != nMels) {
            throw new IllegalArgumentException("statistics have " + sumsq.length + " bands, the model needs " + nMels);
        }
        String problem = SpeakerStats.problem(count, sum, sumsq);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return new SpeakerStats(count, sum, sumsq);
    }

    /** A number, or a string Python's float() reads (numbers, nan, inf, infinity). */
    private static double scalar(Object v, String key) {
        if (v instanceof Number) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof String) {
            String s = ((String) v).trim().toLowerCase(java.util.Locale.ROOT);
            String body = s.startsWith("+") || s.startsWith("-") ? s.substring(1) : s;
            double sign = s.startsWith("-") ? -1.0 : 1.0;
            if (body.equals("nan")) {
                return Double.NaN;
            }
            if (body.equals("inf") || body.equals("infinity")) {
                return sign * Double.POSITIVE_INFINITY;
            }
            if (body.matches("(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?")) {
                return Double.parseDouble(s);
            }
        }
        throw new IllegalArgumentException("statistics need count, sum and sumsq: " + key + " is not a number");
    }

    /** A list of numbers; a single number counts as one band (numpy's shape ()). */
    private static double[] vector(Object v, String key) {
        if (v instanceof List) {
            List<?> a = (List<?>) v;
            double[] out = new double[a.size()];
            for (int i = 0; i < out.length; i++) {
                Object x = a.get(i);
                if (x instanceof List || x instanceof Map) {
                    throw new IllegalArgumentException("statistics need count, sum and sumsq: " + key
                            + " is not a list of numbers");
                }
                out[i] = scalar(x, key);
            }
            return out;
        }
        if (v instanceof Map) {
            throw new IllegalArgumentException("statistics need count, sum and sumsq: " + key
                    + " is not a list of numbers");
        }
        return new double[] {scalar(v, key)};
    }

    private static boolean equalsOne(Object v) {
        return numberEquals(v, 1);
    }

    private static boolean numberEquals(Object v, int n) {
        if (v instanceof Boolean) {
            return (((Boolean) v) ? 1 : 0) == n; // Python: True == 1
        }
        return v instanceof Number && ((Number) v).doubleValue() == n;
    }

    /** Python's repr() of a JSON value, for the version message ("2", "'1'", "None", "2.5"). */
    static String pythonRepr(Object v) {
        if (v instanceof String) {
            return "'" + v + "'";
        }
        return pythonStr(v);
    }

    /** Python's str() of a JSON value. */
    static String pythonStr(Object v) {
        if (v == null || v == StrictJson.NULL) {
            return "None";
        }
        if (v instanceof Boolean) {
            return ((Boolean) v) ? "True" : "False";
        }
        if (v instanceof Double) {
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e16) {
                return Long.toString((long) d) + ".0";
            }
            return Double.toString(d);
        }
        return String.valueOf(v);
    }

    /**
     * Read a profile file. Errors: "cannot read profile PATH: reason", "profile PATH is not JSON" (also for
     * bytes that are not UTF-8), and {@link #fromJson}'s.
     */
    public static SpeakerStats load(File file, int nMels) throws ProfileException {
        byte[] bytes;
        try {
            bytes = readAll(file);
        } catch (IOException e) {
            throw new ProfileException("cannot read profile " + file.getPath() + ": " + e.getMessage());
        }
        String text;
        try {
            text = UTF8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ProfileException("profile " + file.getPath() + " is not JSON");
        }
        return fromJson(text, nMels, file.getPath());
    }

    /**
     * Write a profile atomically: a temporary file in the same directory, flushed to disk, then renamed
     * over {@code file} (a crash leaves the old or the new profile, never half of one).
     */
    public static void save(File file, SpeakerStats stats) throws IOException {
        byte[] bytes = toJson(stats).getBytes(UTF8);
        File dir = file.getAbsoluteFile().getParentFile();
        File tmp = new File(dir, "." + file.getName() + ".tmp");
        FileOutputStream out = new FileOutputStream(tmp);
        try {
            out.write(bytes);
            out.flush();
            out.getFD().sync();
        } finally {
            out.close();
        }
        if (!tmp.renameTo(file)) {
            if (!tmp.delete()) {
                tmp.deleteOnExit();
            }
            throw new IOException("cannot rename " + tmp + " to " + file);
        }
    }

    private static byte[] readAll(File file) throws IOException {
        InputStream in = new FileInputStream(file);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }
}
