package org.serbnn.demo;

import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;

import org.serbnn.core.Pcm16;

/**
 * Records 16 kHz mono PCM16 with {@link AudioRecord} on its own thread and hands float chunks
 * (100 ms, PCM16 / 32768) to a listener on that thread. The caller must hold RECORD_AUDIO.
 */
final class MicRecorder implements Runnable {
    interface Listener {
        /** Called on the recording thread; {@code samples} is reused after the call returns. */
        void onSamples(float[] samples, int count);

        void onRecorderError(String message);
    }

    private final int sampleRate;
    private final Listener listener;
    private volatile boolean running;
    private Thread thread;

    MicRecorder(int sampleRate, Listener listener) {
        this.sampleRate = sampleRate;
        this.listener = listener;
    }

    synchronized void start() {
        if (thread != null) {
            return;
        }
        running = true;
        thread = new Thread(this, "mic-recorder");
        thread.setPriority(Thread.MAX_PRIORITY);
        thread.start();
    }

    synchronized void stop() {
        running = false;
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
    }

    boolean isRunning() {
        return running;
    }

    @Override
    public void run() {
        int chunk = sampleRate / 10;
        int minBytes = AudioRecord.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        if (minBytes <= 0) {
            fail("this device cannot record " + sampleRate + " Hz mono 16-bit audio");
            return;
        }
        AudioRecord rec;
        try {
            rec = new AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION, sampleRate,
                    AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT, Math.max(minBytes, 4 * chunk * 2));
        } catch (SecurityException e) {
            fail("microphone permission missing");
            return;
        } catch (IllegalArgumentException e) {
            fail("cannot open the microphone: " + e.getMessage());
            return;
        }
        if (rec.getState() != AudioRecord.STATE_INITIALIZED) {
            rec.release();
            fail("cannot open the microphone (in use by another app?)");
            return;
        }
        short[] pcm = new short[chunk];
        float[] samples = new float[chunk];
        try {
            rec.startRecording();
            while (running) {
                int n = rec.read(pcm, 0, pcm.length);
                if (n < 0) {
                    fail("microphone read failed (error " + n + ")");
                    break;
                }
                Pcm16.toFloat(pcm, 0, n, samples, 0);
                listener.onSamples(samples, n);
            }
        } catch (IllegalStateException e) {
            fail("microphone stopped: " + e.getMessage());
        } finally {
            try {
                rec.stop();
            } catch (IllegalStateException ignored) {
                // never started
            }
            rec.release();
        }
    }

    private void fail(String message) {
        running = false;
        listener.onRecorderError(message);
    }
}
