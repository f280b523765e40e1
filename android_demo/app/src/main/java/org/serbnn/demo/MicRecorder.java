package org.serbnn.demo;

import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;

import org.serbnn.core.BackgroundLoop;
import org.serbnn.core.LiveMode;
import org.serbnn.core.Pcm16;

/**
 * Records 16 kHz mono PCM16 with {@link AudioRecord} on its own thread ({@link BackgroundLoop}) and hands
 * float chunks (100 ms, PCM16 / 32768) to a listener on that thread. The caller must hold RECORD_AUDIO.
 * {@link #stop()} never blocks (it is called on the UI thread): the thread ends after its current read
 * (at most one 100 ms chunk) and releases the microphone itself. A recorder started with the previous
 * one waits, on its own thread, until that one has released the microphone.
 */
final class MicRecorder implements BackgroundLoop.Body, LiveMode.Recorder {
    /** Live mode's microphone. */
    static final LiveMode.Microphone MICROPHONE = new LiveMode.Microphone() {
        @Override
        public LiveMode.Recorder open(int sampleRate, LiveMode.AudioSink sink, LiveMode.Recorder previous) {
            return new MicRecorder(sampleRate, sink, previous instanceof MicRecorder ? (MicRecorder) previous : null);
        }
    };

    /** How long a new recorder waits for its predecessor to release the microphone. */
    private static final long WAIT_FOR_PREVIOUS_MS = 2000;

    private final int sampleRate;
    private final LiveMode.AudioSink listener;
    private final BackgroundLoop loop;

    /** @param previous the recorder this one replaces (may still be releasing the microphone), or null */
    MicRecorder(int sampleRate, LiveMode.AudioSink listener, MicRecorder previous) {
        this.sampleRate = sampleRate;
        this.listener = listener;
        this.loop = new BackgroundLoop("mic-recorder", this, previous == null ? null : previous.loop,
                WAIT_FOR_PREVIOUS_MS);
    }

    @Override
    public void start() {
        loop.start();
    }

    /** Returns at once; the recording thread finishes on its own. */
    @Override
    public void stop() {
        loop.stop();
    }

    boolean isRunning() {
        return loop.isRunning();
    }

    @Override
    public void run(BackgroundLoop l) {
        Thread.currentThread().setPriority(Thread.MAX_PRIORITY);
        int chunk = sampleRate / 10;
        int minBytes = AudioRecord.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        if (minBytes <= 0) {
            listener.onRecorderError("this device cannot record " + sampleRate + " Hz mono 16-bit audio");
            return;
        }
        AudioRecord rec;
        try {
            rec = new AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION, sampleRate,
                    AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT, Math.max(minBytes, 4 * chunk * 2));
        } catch (SecurityException e) {
            listener.onRecorderError("microphone permission missing");
            return;
        } catch (IllegalArgumentException e) {
            listener.onRecorderError("cannot open the microphone: " + e.getMessage());
            return;
        }
        if (rec.getState() != AudioRecord.STATE_INITIALIZED) {
            rec.release();
            listener.onRecorderError("cannot open the microphone (in use by another app?)");
            return;
        }
        short[] pcm = new short[chunk];
        float[] samples = new float[chunk];
        try {
            rec.startRecording();
            while (l.isRunning()) {
                int n = rec.read(pcm, 0, pcm.length);
                if (n < 0) {
                    listener.onRecorderError("microphone read failed (error " + n + ")");
                    break;
                }
                if (!l.isRunning()) {
                    break; // stopped during the read: this chunk belongs to no session any more
                }
                Pcm16.toFloat(pcm, 0, n, samples, 0);
                listener.onSamples(samples, n);
            }
        } catch (IllegalStateException e) {
            listener.onRecorderError("microphone stopped: " + e.getMessage());
        } finally {
            try {
                rec.stop();
            } catch (IllegalStateException ignored) {
                // never started
            }
            rec.release();
        }
    }

    @Override
    public void failed(RuntimeException e) {
        listener.onRecorderError("recorder failed: " + e);
    }
}
