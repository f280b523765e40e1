package org.serbnn.core;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * File mode's job, {@code ser-bnn predict FILE}: stream a WAV through {@link UtteranceClassifier} with
 * statistics from zero (the file's speaker is not assumed to be the phone's user; the profile is left
 * alone) and turn the result, or whatever went wrong, into what the app shows. Runs on the inference
 * thread; never throws.
 */
public final class FileClassification {
    /** Opens the file (a picked document or a bundled asset). */
    public interface Source {
        InputStream open() throws IOException;
    }

    /** What the app shows: a status line and, when the file was classified, the result and its details. */
    public static final class Outcome {
        /** "File: NAME", or one line saying why the file was not classified. */
        public final String status;
        /** Null when the file was not classified. */
        public final UtteranceClassifier.Result result;
        /** {@link StatusText#fileResult}; null when the file was not classified. */
        public final String details;

        Outcome(String status, UtteranceClassifier.Result result, String details) {
            this.status = status;
            this.result = result;
            this.details = details;
        }

        public boolean classified() {
            return result != null;
        }
    }

    private FileClassification() {
    }

    public static Outcome run(String name, Source source, ModelRunner runner, ModelInfo mi, TensorRoles roles,
            Clock clock) {
        String error;
        try {
            InputStream in = source.open();
            if (in == null) {
                throw new IOException("cannot open " + name);
            }
            try {
                WavStream wav = WavStream.open(new BufferedInputStream(in, 1 << 16));
                long t0 = clock.nowMs();
                UtteranceClassifier.Result r = new UtteranceClassifier(runner, mi, roles).classify(wav.at(mi.sampleRate));
                long ms = clock.nowMs() - t0;
                return new Outcome("File: " + name, r,
                        StatusText.fileResult(name, wav.sampleRate, wav.channels, r, mi, ms));
            } finally {
                in.close();
            }
        } catch (UnusableAudioException e) {
            error = name + ": " + e.getMessage(); // too short, no signal
        } catch (WavFormatException e) {
            error = name + ": " + e.getMessage();
        } catch (IOException e) {
            error = "Cannot read " + name + ": " + e.getMessage();
        } catch (RuntimeException e) {
            error = "Classification failed: " + e;
        } catch (OutOfMemoryError e) {
            error = "Out of memory while classifying " + name;
        }
        return new Outcome(error, null, null);
    }
}
