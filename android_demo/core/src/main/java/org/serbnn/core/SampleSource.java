package org.serbnn.core;

import java.io.IOException;

/**
 * A stream of mono float samples read piece by piece, so that a long recording never has to be held
 * in memory at once (file mode: {@link WavStream} -> {@link ResamplingSource} -> {@link WindowCutter}).
 */
public interface SampleSource {
    /**
     * Read up to {@code len} samples into {@code dst[off..]}.
     *
     * @return the number of samples read (at least 1 when {@code len > 0}), or -1 at the end of the stream
     */
    int read(float[] dst, int off, int len) throws IOException;
}
