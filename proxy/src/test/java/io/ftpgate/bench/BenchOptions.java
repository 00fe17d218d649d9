package io.ftpgate.bench;

import java.nio.file.Path;

/**
 * How much the benchmark measures. {@code --full} (the default) takes about ten minutes, {@code
 * --short} about one; {@code --rounds N}, {@code --idle N} and {@code --seconds N} override one
 * figure of either, {@code --out FILE} says where the Markdown table goes.
 *
 * @param retrBytes size of the file downloaded
 * @param storBytes size of the file uploaded
 * @param sessionSeconds how long each session-rate run lasts
 * @param idleSessions idle control sessions held open for the memory figure
 * @param warmUp whether one unrecorded round of transfers and sessions precedes the rounds (JIT)
 */
public record BenchOptions(String mode, int rounds, long retrBytes, long storBytes, int sessionSeconds,
                           int concurrency, int idleSessions, boolean warmUp, Path out) {

    private static final long MIB = 1024 * 1024;

    public static BenchOptions full(Path out) {
        return new BenchOptions("full", 5, 1024 * MIB, 100 * MIB, 5, 16, 10_000, true, out);
    }

    public static BenchOptions shortRun(Path out) {
        return new BenchOptions("short", 3, 64 * MIB, 16 * MIB, 1, 16, 500, false, out);
    }

    public BenchOptions withRounds(int n) {
        return new BenchOptions(mode, n, retrBytes, storBytes, sessionSeconds, concurrency, idleSessions, warmUp, out);
    }

    public static BenchOptions parse(String... args) {
        BenchOptions options = full(Path.of("target", "bench", "results.md"));
        boolean modeSet = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--full" -> options = full(options.out);
                case "--short" -> options = shortRun(options.out);
                case "--rounds" -> options = options.withRounds(positive(arg, args, ++i));
                case "--idle" -> options = new BenchOptions(options.mode, options.rounds, options.retrBytes, options.storBytes,
                        options.sessionSeconds, options.concurrency, positive(arg, args, ++i), options.warmUp, options.out);
                case "--seconds" -> options = new BenchOptions(options.mode, options.rounds, options.retrBytes, options.storBytes,
                        positive(arg, args, ++i), options.concurrency, options.idleSessions, options.warmUp, options.out);
                case "--out" -> options = new BenchOptions(options.mode, options.rounds, options.retrBytes, options.storBytes,
                        options.sessionSeconds, options.concurrency, options.idleSessions, options.warmUp, Path.of(value(arg, args, ++i)));
                default -> throw new IllegalArgumentException("unknown argument " + arg
                        + " (use --full | --short, --rounds N, --idle N, --seconds N, --out FILE)");
            }
            if ((arg.equals("--full") || arg.equals("--short")) && modeSet) {
                throw new IllegalArgumentException("give --full or --short first, then overrides");
            }
            modeSet = modeSet || arg.equals("--full") || arg.equals("--short");
        }
        return options;
    }

    private static String value(String name, String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i];
    }

    private static int positive(String name, String[] args, int i) {
        int n = Integer.parseInt(value(name, args, i));
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, not " + n);
        }
        return n;
    }
}
