package org.serbnn.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Python's conversions of parsed JSON values (org.json's: {@link JSONObject}, {@link JSONArray}, String,
 * Boolean, Number, {@link JSONObject#NULL}), with Python's error messages, for
 * {@code NormStats.from_dict}: {@code float(v)} for the count, {@code np.asarray(v, float)} for the
 * per-band vectors, and {@code str()} / {@code repr()} for values quoted in messages.
 */
final class PythonValues {
    private PythonValues() {
    }

    /** A numpy array: its shape and its values in C order. */
    static final class Array {
        final int[] shape;
        final double[] values;

        Array(int[] shape, double[] values) {
            this.shape = shape;
            this.values = values;
        }

        /** The shape as numpy's {@code list(a.shape)} prints: "[]", "[20, 2]". */
        String shapeText() {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < shape.length; i++) {
                sb.append(i > 0 ? ", " : "").append(shape[i]);
            }
            return sb.append(']').toString();
        }
    }

    /**
     * Python's {@code float(v)}: numbers, booleans and numeric strings ("1e3", " nan ", "-Infinity");
     * anything else throws with Python's message.
     */
    static double toFloat(Object v) {
        if (v instanceof Number) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof Boolean) {
            return ((Boolean) v) ? 1.0 : 0.0;
        }
        if (v instanceof String) {
            return parseFloat((String) v);
        }
        throw new IllegalArgumentException("float() argument must be a string or a real number, not '"
                + typeName(v) + "'");
    }

    /** {@code float(s)} of a string: decimal literals, nan, inf, infinity (any case, signed, padded). */
    private static double parseFloat(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        boolean signed = t.startsWith("+") || t.startsWith("-");
        String body = signed ? t.substring(1) : t;
        double sign = t.startsWith("-") ? -1.0 : 1.0;
        if (body.equals("nan")) {
            return Double.NaN;
        }
        if (body.equals("inf") || body.equals("infinity")) {
            return sign * Double.POSITIVE_INFINITY;
        }
        if (body.matches("(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?")) {
            return Double.parseDouble(t);
        }
        throw new IllegalArgumentException("could not convert string to float: " + repr(s));
    }

    /**
     * numpy's {@code np.asarray(v, float)}: nested lists of equal lengths become an array of that shape, a
     * single value one of shape [], null is NaN. Ragged lists throw (numpy's message is not reproduced).
     */
    static Array toArray(Object v) {
        List<Integer> shape = new ArrayList<Integer>();
        shapeOf(v, 0, shape);
        int[] dims = new int[shape.size()];
        int size = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i);
            size *= dims[i];
        }
        double[] values = new double[size];
        int n = fill(v, values, 0);
        if (n != size) {
            throw new IllegalStateException("filled " + n + " of " + size + " values");
        }
        return new Array(dims, values);
    }

    /** Records the dimensions below {@code depth}; all lists at one depth must have the same length. */
    private static void shapeOf(Object v, int depth, List<Integer> shape) {
        boolean list = v instanceof JSONArray;
        if (depth == shape.size()) { // first value seen at this depth
            if (list) {
                shape.add(((JSONArray) v).length());
            } else {
                shape.add(-1); // a scalar: marks the depth where the array ends
            }
        } else if (list ? shape.get(depth) != ((JSONArray) v).length() : shape.get(depth) != -1) {
            throw new IllegalArgumentException("setting an array element with a sequence: the lists have "
                    + "different lengths or depths");
        }
        if (list) {
            JSONArray a = (JSONArray) v;
            for (int i = 0; i < a.length(); i++) {
                shapeOf(a.opt(i), depth + 1, shape);
            }
        }
        if (depth == 0 && shape.get(shape.size() - 1) == -1) {
            shape.remove(shape.size() - 1);
        }
    }

    private static int fill(Object v, double[] out, int at) {
        if (v instanceof JSONArray) {
            JSONArray a = (JSONArray) v;
            for (int i = 0; i < a.length(); i++) {
                at = fill(a.opt(i), out, at);
            }
            return at;
        }
        out[at] = isNull(v) ? Double.NaN : toFloat(v); // numpy: None -> nan in a float array
        return at + 1;
    }

    static boolean isNull(Object v) {
        return v == null || JSONObject.NULL.equals(v);
    }

    /** Python's {@code x == n} for a JSON value (True == 1, 1.0 == 1, "1" != 1). */
    static boolean equalsInt(Object v, int n) {
        if (v instanceof Boolean) {
            return (((Boolean) v) ? 1 : 0) == n;
        }
        return v instanceof Number && ((Number) v).doubleValue() == n;
    }

    /** Python's repr() of a JSON value, for the version message ("2", "'1'", "None", "2.5"). */
    static String repr(Object v) {
        if (v instanceof String) {
            String s = (String) v;
            if (s.indexOf('\'') >= 0 && s.indexOf('"') < 0) {
                return "\"" + s.replace("\\", "\\\\") + "\"";
            }
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
        }
        return str(v);
    }

    /** Python's str() of a JSON value. */
    static String str(Object v) {
        if (isNull(v)) {
            return "None";
        }
        if (v instanceof Boolean) {
            return ((Boolean) v) ? "True" : "False";
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e16) {
                return Long.toString((long) d) + ".0";
            }
            return Double.toString(d);
        }
        return String.valueOf(v);
    }

    /** Python's type name of a JSON value. */
    static String typeName(Object v) {
        if (isNull(v)) {
            return "NoneType";
        }
        if (v instanceof JSONArray) {
            return "list";
        }
        if (v instanceof JSONObject) {
            return "dict";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        return v instanceof Double || v instanceof Float ? "float" : "int";
    }
}
