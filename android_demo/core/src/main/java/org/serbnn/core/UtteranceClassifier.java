package org.serbnn.core;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * File mode, the same decisions as {@code ser-bnn predict} ({@code ser_bnn/predict.py}): cut a recording
 * into windows ({@link WindowCutter}, the rule of {@link Windowing}) as it is read, classify each,
 * max-pool the posteriors ({@link Pooling#maxPool}) and name the winning class.
 * <ul>
 *   <li>Windows whose samples are all exactly 0 (digital silence) are not classified and left out of the
 *       pooling.</li>
 *   <li>A recording shorter than {@link #MIN_SECONDS} is refused ("too short"), before any window is
 *       classified; a recording whose samples are all zero is refused ("no signal").</li>
 *   <li>{@link Result#scores} is the pooled vector renormalised to sum to 1 (what predict prints);
 *       {@link Result#pooled} the raw max-pooled one. Recordings under {@link #SHORT_NOTE_SECONDS} and
 *       dropped windows give the same notes as predict.</li>
 * </ul>
 * Memory is one window plus one posterior per window, whatever the recording's length.
 */
public final class UtteranceClassifier {
    /** Shorter recordings are refused (predict's MIN_SECONDS). */
    public static final double MIN_SECONDS = 0.1;
    /** Shorter recordings get a note (predict's SHORT_NOTE_SECONDS). */
    public static final double SHORT_NOTE_SECONDS = 1.0;

    /** Per-window and pooled results of one recording. */
    public static final class Result {
        /** Start sample of each classified window (silent windows left out, as predict's window_starts). */
        public final long[] windowStarts;
        /** Posteriors of the classified windows, in order. */
        public final float[][] posteriors;
        /** Max over windows per class (predict's pooled_max). */
        public final float[] pooled;
        /** {@link #pooled} / its sum (predict's scores). */
        public final float[] scores;
        public final int best;
        public final String label;
        /** Length of the recording in samples at {@link #sampleRate}. */
        public final long samples;
        public final int sampleRate;
        /** All-zero windows left out of the pooling. */
        public final int silentWindows;
        /** predict's notes: short input, silent windows. */
        public final List<String> notes;

        Result(long[] windowStarts, float[][] posteriors, float[] pooled, float[] scores, int best, String label,
                long samples, int sampleRate, int silentWindows, List<String> notes) {
            this.windowStarts = windowStarts;
            this.posteriors = posteriors;
            this.pooled = pooled;
            this.scores = scores;
            this.best = best;
            this.label = label;
            this.samples = samples;
            this.sampleRate = sampleRate;
            this.silentWindows = silentWindows;
            this.notes = notes;
        }

        public double durationSeconds() {
            return samples / (double) sampleRate;
        }
    }

    private final Classifier classifier;
    private final List<String> labels;
    private final int sampleRate;
    private final int window;
    private final int hop;

    public UtteranceClassifier(Classifier classifier, List<String> labels, int sampleRate, int window, int hop) {
        if (sampleRate <= 0 || window <= 0 || hop <= 0) {
            throw new IllegalArgumentException("sample rate, window and hop must be positive, got " + sampleRate
                    + ", " + window + ", " + hop);
        }
        this.classifier = classifier;
        this.labels = labels;
        this.sampleRate = sampleRate;
        this.window = window;
        this.hop = hop;
    }

    /** With the model's labels, rate, window and file-mode hop. */
    public UtteranceClassifier(Classifier classifier, ModelInfo info) {
        this(classifier, info.labels, info.sampleRate, info.windowSamples, info.hopSamples);
    }

    /** Classify an in-memory recording at the model's rate. */
    public Result classify(float[] wave) throws UnusableAudioException {
        try {
            return classify(new ArraySampleSource(wave));
        } catch (UnusableAudioException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory failed", e); // ArraySampleSource does not throw
        }
    }

    /**
     * Classify a recording at the model's rate, read as it goes ({@code WavStream.at(rate)} for a file).
     *
     * @throws UnusableAudioException too short, or no signal
     * @throws IOException from the source (e.g. {@link WavFormatException})
     */
    public Result classify(SampleSource source) throws IOException {
        SignalDetector input = new SignalDetector(source);
        WindowCutter cutter = new WindowCutter(input, window, hop);
        List<Long> starts = new ArrayList<Long>();
        List<float[]> post = new ArrayList<float[]>();
        int silent = 0;
        while (cutter.next()) {
            if (cutter.sourceEnded()) {
                checkLength(cutter.samplesRead()); // refuse a too-short file before classifying it
            }
            float[] w = cutter.window();
            if (allZero(w)) {
                silent++;
                continue;
            }
            float[] p = classifier.classify(w.clone());
            if (p.length != labels.size()) {
                throw new IllegalStateException("model returned " + p.length + " probabilities for "
                        + labels.size() + " labels");
            }
            starts.add(cutter.start());
            post.add(p);
        }
        long n = cutter.samplesRead();
        checkLength(n);
        if (!input.sawSignal || post.isEmpty()) {
            throw new UnusableAudioException(UnusableAudioException.Reason.NO_SIGNAL,
                    "no signal (every sample is zero), nothing to classify");
        }
        float[][] posteriors = post.toArray(new float[post.size()][]);
        float[] pooled = Pooling.maxPool(posteriors);
        float sum = 0f;
        for (float v : pooled) {
            sum += v;
        }
        float[] scores = new float[pooled.length];
        for (int c = 0; c < pooled.length; c++) {
            scores[c] = pooled[c] / sum;
        }
        int best = Pooling.argmax(pooled);
        long[] startArray = new long[starts.size()];
        for (int i = 0; i < startArray.length; i++) {
            startArray[i] = starts.get(i);
        }
        double seconds = n / (double) sampleRate;
        List<String> notes = new ArrayList<String>();
        if (seconds < SHORT_NOTE_SECONDS) {
            notes.add("short input (" + fixed(seconds, 2) + " s): the model was trained on utterances of 1.2 s and more");
        }
        if (silent > 0) {
            notes.add(silent + " silent window(s) left out of the pooling");
        }
        return new Result(startArray, posteriors, pooled, scores, best, labels.get(best), n, sampleRate, silent,
                Collections.unmodifiableList(notes));
    }

    private void checkLength(long n) throws UnusableAudioException {
        double seconds = n / (double) sampleRate;
        if (seconds < MIN_SECONDS) {
            throw new UnusableAudioException(UnusableAudioException.Reason.TOO_SHORT,
                    "too short (" + fixed(seconds, 3) + " s; need at least " + MIN_SECONDS + " s)");
        }
    }

    static boolean allZero(float[] w) {
        for (float x : w) {
            if (x != 0f) {
                return false;
            }
        }
        return true;
    }

    /** {@code value} with {@code digits} decimals, rounded half-even on its exact binary value (Python's format). */
    static String fixed(double value, int digits) {
        return new BigDecimal(value).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** Passes samples through and records whether any of them is not exactly zero. */
    private static final class SignalDetector implements SampleSource {
        private final SampleSource in;
        boolean sawSignal;

        SignalDetector(SampleSource in) {
            this.in = in;
        }

        @Override
        public int read(float[] dst, int off, int len) throws IOException {
            int n = in.read(dst, off, len);
            for (int i = 0; i < n && !sawSignal; i++) {
                sawSignal = dst[off + i] != 0f;
            }
            return n;
        }
    }
}
