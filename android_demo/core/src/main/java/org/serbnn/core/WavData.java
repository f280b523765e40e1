package org.serbnn.core;

/** Decoded WAV audio: mono float samples in [-1, 1] and the file's own rate and channel count. */
public final class WavData {
    public final int sampleRate;
    public final int channels;
    /** Mono samples (channels averaged), {@code frames} long. */
    public final float[] samples;

    public WavData(int sampleRate, int channels, float[] samples) {
        this.sampleRate = sampleRate;
        this.channels = channels;
        this.samples = samples;
    }

    public int frames() {
        return samples.length;
    }

    public double durationSeconds() {
        return samples.length / (double) sampleRate;
    }

    /** The samples at {@code rate}: these samples if the rate matches, else resampled. */
    public float[] samplesAt(int rate) {
        return sampleRate == rate ? samples : Resampler.resample(samples, sampleRate, rate);
    }
}
