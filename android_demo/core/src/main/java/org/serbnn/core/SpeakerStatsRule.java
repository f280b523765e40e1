package org.serbnn.core;

/**
 * How a model with the {@code speaker_stats} input uses and updates the statistics (the sidecar's
 * {@code speaker_stats} section; {@code ser_bnn/online.py}):
 * <ul>
 *   <li>selection, inside the graph: count &lt; {@link #minStatsFrames} (100 frames = 1 s of signal)
 *       selects the training speakers' default mean / std ({@link #defaultMean}, {@link #defaultStd});
 *       else {@code mean = sum / count}, {@code std = max(sqrt(max(sumsq / count - mean^2, 0)), stdFloor)};</li>
 *   <li>update, in the app ({@link SpeakerStats#add}): add a speech window's {@code window_stats}; if the
 *       count exceeds {@link #countCap} (30 000 frames = 5 min of signal), scale count, sum and sumsq by
 *       {@code countCap / count}.</li>
 * </ul>
 */
public final class SpeakerStatsRule {
    /** ser_bnn.online.MIN_STATS_FRAMES */
    public static final int MIN_STATS_FRAMES = 100;
    /** ser_bnn.online.COUNT_CAP */
    public static final double COUNT_CAP = 30000.0;
    /** FeatureConfig.std_floor */
    public static final double STD_FLOOR = 1e-3;

    public final double minStatsFrames;
    public final double countCap;
    public final double stdFloor;
    /** The default statistics (may be empty when the sidecar does not list them). */
    private final double[] defaultMean;
    private final double[] defaultStd;

    public SpeakerStatsRule(double minStatsFrames, double countCap, double stdFloor, double[] defaultMean,
            double[] defaultStd) {
        if (!(minStatsFrames >= 0) || Double.isInfinite(minStatsFrames)) {
            throw new IllegalArgumentException("speaker_stats.min_stats_frames must be a finite number >= 0, got "
                    + minStatsFrames);
        }
        if (!(countCap > 0) || Double.isInfinite(countCap)) {
            throw new IllegalArgumentException("speaker_stats.count_cap must be a finite number > 0, got " + countCap);
        }
        if (!(stdFloor > 0) || Double.isInfinite(stdFloor)) {
            throw new IllegalArgumentException("speaker_stats.std_floor must be a finite number > 0, got " + stdFloor);
        }
        double[] m = defaultMean == null ? new double[0] : defaultMean.clone();
        double[] s = defaultStd == null ? new double[0] : defaultStd.clone();
        if (m.length != s.length) {
            throw new IllegalArgumentException("speaker_stats.default: mean has " + m.length + " bands, std has "
                    + s.length);
        }
        this.minStatsFrames = minStatsFrames;
        this.countCap = countCap;
        this.stdFloor = stdFloor;
        this.defaultMean = m;
        this.defaultStd = s;
    }

    /** The constants of ser_bnn.online, without default statistics. */
    public static SpeakerStatsRule defaults() {
        return new SpeakerStatsRule(MIN_STATS_FRAMES, COUNT_CAP, STD_FLOOR, null, null);
    }

    public double[] defaultMean() {
        return defaultMean.clone();
    }

    public double[] defaultStd() {
        return defaultStd.clone();
    }

    /** Whether the graph standardizes with these statistics ("speaker") rather than the default ones. */
    public boolean usesSpeakerStatistics(SpeakerStats stats) {
        return stats.count() >= minStatsFrames;
    }

    /** "speaker" or "default": which statistics the graph uses (ser_bnn.online.norm_params's source). */
    public String source(SpeakerStats stats) {
        return usesSpeakerStatistics(stats) ? "speaker" : "default";
    }
}
