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

import org.json.JSONException;
import org.json.JSONObject;
import org.json.JSONTokener;

/**
 * A speaker's statistics as JSON, the format of {@code ser-bnn predict --profile}
 * ({@code ser_bnn.online.save_profile} / {@code load_profile}), so that a profile moves between the
 * phone and the command line in both directions:
 * <pre>
 * {"format": "ser-bnn-speaker-stats", "version": 1, "n_mels": 40,
 *  "count": 12345.0, "sum": [40 numbers], "sumsq": [40 numbers]}
 * </pre>
 * Reading parses with {@code org.json} (Android's own; on the JVM Debian's libandroid-json-java, the same
 * AOSP code), then applies the checks of {@code online.load_profile} and {@code NormStats.from_dict} in
 * their order, with their one-line messages ({@link ProfileException}): not JSON, not an object, another
 * {@code version} (missing = 1), {@code n_mels} (when present) different from the model's bands, a missing
 * or unconvertible {@code count} / {@code sum} / {@code sumsq} (read as Python's float() and numpy's
 * asarray read them: numeric strings are numbers, null in a list is NaN), a vector that is not one list or
 * whose length is not the model's band count, NaN or infinity (Python's json reads and writes the literals
 * NaN, Infinity, -Infinity), a negative count or sum of squares. A refused profile changes nothing:
 * {@link #load} returns new statistics only on success and never writes. Numbers are written with
 * {@link Double#toString}, which reads back to the same double (as Python's repr); Python reads them
 * exactly, and this class reads Python's exactly.
 *
 * <p>Where the two sides differ (text that no writer produces): org.json is more lenient than Python's
 * json. It reads comments, single-quoted and unquoted strings, control characters inside strings, hex and
 * octal numbers, {@code =}, {@code =>} or {@code ;} as separators, empty list items and a trailing comma in a
 * list (as null), and true/false/null in any case, all of which Python calls "not JSON"; such a file is accepted here if its values pass the checks, and otherwise refused by a later check
 * with that check's message. Lists of unequal lengths get a message of their own (numpy's names its shape
 * analysis), and string values in messages are quoted without Python's escapes of special characters.
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
        JSONObject d = parseObject(text, "profile " + name);
        if (d.has("version") && !PythonValues.equalsInt(d.opt("version"), VERSION)) {
            throw new ProfileException("profile " + name + " has version " + PythonValues.repr(d.opt("version"))
                    + ", expected " + VERSION);
        }
        if (d.has("n_mels") && !PythonValues.equalsInt(d.opt("n_mels"), nMels)) {
            throw new ProfileException("profile " + name + " has " + PythonValues.str(d.opt("n_mels"))
                    + " Mel bands, the model needs " + nMels);
        }
        try {
            return statsFromDict(d, nMels);
        } catch (IllegalArgumentException e) {
            throw new ProfileException("profile " + name + ": " + e.getMessage());
        }
    }

    /**
     * The text's one JSON value, which must be an object ("WHAT is not JSON", "WHAT is not a JSON object").
     * Python's json refuses a leading byte-order mark and bare words; org.json would read them.
     */
    private static JSONObject parseObject(String text, String what) throws ProfileException {
        Object root;
        try {
            if (text.startsWith("\uFEFF")) {
                throw new JSONException("byte-order mark");
            }
            JSONTokener tokens = new FiniteOrStringTokener(text);
            root = tokens.nextValue();
            if (tokens.nextClean() != 0) {
                throw new JSONException("trailing characters");
            }
            if (root instanceof String && !text.trim().startsWith("\"")) {
                throw new JSONException("a bare word");
            }
        } catch (JSONException e) {
            throw new ProfileException(what + " is not JSON");
        }
        if (!(root instanceof JSONObject)) {
            throw new ProfileException(what + " is not a JSON object");
        }
        return (JSONObject) root;
    }

    /**
     * Reads NaN, Infinity and -Infinity (which Python's json reads and writes) as the strings "NaN",
     * "Infinity", "-Infinity": org.json refuses non-finite numbers as object members, and Python's float()
     * turns the strings back into the same values, which the checks then refuse as Python does.
     */
    private static final class FiniteOrStringTokener extends JSONTokener {
        FiniteOrStringTokener(String text) {
            super(text);
        }

        @Override
        public Object nextValue() throws JSONException {
            Object v = super.nextValue();
            if (v instanceof Double && (((Double) v).isNaN() || ((Double) v).isInfinite())) {
                return v.toString();
            }
            return v;
        }
    }

    /**
     * NormStats.from_dict in its order: count, sum, sumsq read as Python reads them (float(), np.asarray);
     * then per vector its shape and band count; then finite values; then the signs.
     */
    private static SpeakerStats statsFromDict(JSONObject d, int nMels) {
        double count;
        PythonValues.Array sum;
        PythonValues.Array sumsq;
        try {
            count = PythonValues.toFloat(member(d, "count"));
            sum = PythonValues.toArray(member(d, "sum"));
            sumsq = PythonValues.toArray(member(d, "sumsq"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("statistics need count, sum and sumsq: " + e.getMessage());
        }
        String[] names = {"sum", "sumsq"};
        PythonValues.Array[] arrays = {sum, sumsq};
        for (int i = 0; i < 2; i++) {
            PythonValues.Array a = arrays[i];
            if (a.shape.length != 1) {
                throw new IllegalArgumentException("statistics " + names[i] + " has shape " + a.shapeText()
                        + ", the model needs " + nMels + " bands");
            }
            if (a.values.length != nMels) {
                throw new IllegalArgumentException("statistics have " + a.values.length + " bands, the model needs "
                        + nMels);
            }
        }
        String problem = SpeakerStats.problem(count, sum.values, sumsq.values);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return new SpeakerStats(count, sum.values, sumsq.values);
    }

    /** d[key], or Python's KeyError message. */
    private static Object member(JSONObject d, String key) {
        if (!d.has(key)) {
            throw new IllegalArgumentException("'" + key + "'"); // KeyError
        }
        return d.opt(key);
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
