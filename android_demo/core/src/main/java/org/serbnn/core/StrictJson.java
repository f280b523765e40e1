package org.serbnn.core;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON reader that accepts exactly what Python's {@code json.loads} accepts (RFC 8259 plus the literals
 * {@code NaN}, {@code Infinity}, {@code -Infinity}; no comments, single quotes, unquoted strings or
 * trailing text; control characters inside strings refused; the last of repeated keys wins), so that the
 * app refuses and accepts the same profiles as {@code ser-bnn predict}. Android's org.json tokener is more
 * lenient, and refuses NaN as an object value, which Python reads (and then reports as NaN).
 *
 * <p>Values: {@code Map<String, Object>} (insertion order), {@code List<Object>}, {@code String},
 * {@code Long} (or {@code BigInteger}) for integers, {@code Double} for numbers with a fraction or
 * exponent and for the three literals, {@code Boolean}, and {@link #NULL}.
 */
final class StrictJson {
    /** JSON null. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** Malformed JSON. */
    static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message) {
            super(message);
        }
    }

    private final String s;
    private int pos;

    private StrictJson(String s) {
        this.s = s;
    }

    static Object parse(String text) throws SyntaxException {
        StrictJson p = new StrictJson(text);
        p.ws();
        Object v = p.value();
        p.ws();
        if (p.pos != text.length()) {
            throw p.error("extra data");
        }
        return v;
    }

    private SyntaxException error(String what) {
        return new SyntaxException(what + " at character " + pos);
    }

    private void ws() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private boolean literal(String word) {
        if (s.startsWith(word, pos)) {
            pos += word.length();
            return true;
        }
        return false;
    }

    private Object value() throws SyntaxException {
        if (pos >= s.length()) {
            throw error("expecting value");
        }
        char c = s.charAt(pos);
        switch (c) {
            case '{':
                return object();
            case '[':
                return array();
            case '"':
                return string();
            default:
                break;
        }
        if (literal("true")) {
            return Boolean.TRUE;
        }
        if (literal("false")) {
            return Boolean.FALSE;
        }
        if (literal("null")) {
            return NULL;
        }
        if (literal("NaN")) {
            return Double.NaN;
        }
        if (literal("Infinity")) {
            return Double.POSITIVE_INFINITY;
        }
        if (literal("-Infinity")) {
            return Double.NEGATIVE_INFINITY;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
        }
        throw error("expecting value");
    }

    private Map<String, Object> object() throws SyntaxException {
        Map<String, Object> m = new LinkedHashMap<String, Object>();
        pos++; // {
        ws();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            return m;
        }
        while (true) {
            ws();
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw error("expecting property name enclosed in double quotes");
            }
            String key = string();
            ws();
            if (pos >= s.length() || s.charAt(pos) != ':') {
                throw error("expecting ':' delimiter");
            }
            pos++;
            ws();
            m.put(key, value());
            ws();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            throw error("expecting ',' delimiter");
        }
    }

    private List<Object> array() throws SyntaxException {
        List<Object> a = new ArrayList<Object>();
        pos++; // [
        ws();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            return a;
        }
        while (true) {
            ws();
            a.add(value());
            ws();
            if (pos < s.length() && s.charAt(pos) == ',') {
                pos++;
                continue;
            }
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return a;
            }
            throw error("expecting ',' delimiter");
        }
    }

    private String string() throws SyntaxException {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("invalid control character");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"':
                    sb.append('"');
                    break;
                case '\\':
                    sb.append('\\');
                    break;
                case '/':
                    sb.append('/');
                    break;
                case 'b':
                    sb.append('\b');
                    break;
                case 'f':
                    sb.append('\f');
                    break;
                case 'n':
                    sb.append('\n');
                    break;
                case 'r':
                    sb.append('\r');
                    break;
                case 't':
                    sb.append('\t');
                    break;
                case 'u':
                    if (pos + 4 > s.length()) {
                        throw error("invalid \\uXXXX escape");
                    }
                    try {
                        sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("invalid \\uXXXX escape");
                    }
                    pos += 4;
                    break;
                default:
                    throw error("invalid \\escape");
            }
        }
    }

    private Object number() throws SyntaxException {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        if (pos < s.length() && s.charAt(pos) == '0') {
            pos++;
        } else if (pos < s.length() && s.charAt(pos) >= '1' && s.charAt(pos) <= '9') {
            digits();
        } else {
            throw error("expecting value");
        }
        boolean integer = true;
        if (pos + 1 < s.length() && s.charAt(pos) == '.' && isDigit(s.charAt(pos + 1))) {
            pos++;
            digits();
            integer = false;
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            int mark = pos;
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < s.length() && isDigit(s.charAt(pos))) {
                digits();
                integer = false;
            } else {
                pos = mark; // Python stops the number before a bare 'e' (then fails on the extra data)
            }
        }
        String text = s.substring(start, pos);
        if (integer) {
            BigInteger b = new BigInteger(text);
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        }
        return Double.parseDouble(text);
    }

    private void digits() {
        while (pos < s.length() && isDigit(s.charAt(pos))) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
