package io.ftpgate.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The samples of one run and their Markdown rendering: per setup and figure the median of the
 * rounds, and the ratio of that median to {@code direct}'s. A setup that was not measured shows
 * {@code —} and its reason below the tables; a figure whose every round failed shows {@code —}.
 */
final class ResultTable {

    private final Map<BenchSetup.Kind, Map<Figure, List<Double>>> samples = new LinkedHashMap<>();
    private final Map<BenchSetup.Kind, String> unavailable = new EnumMap<>(BenchSetup.Kind.class);
    private final List<String> notes = new ArrayList<>();

    ResultTable() {
        for (BenchSetup.Kind kind : BenchSetup.Kind.values()) {
            Map<Figure, List<Double>> figures = new EnumMap<>(Figure.class);
            for (Figure figure : Figure.values()) {
                figures.put(figure, new ArrayList<>());
            }
            samples.put(kind, figures);
        }
    }

    void add(BenchSetup.Kind kind, Figure figure, double value) {
        samples.get(kind).get(figure).add(value);
    }

    void unavailable(BenchSetup.Kind kind, String reason) {
        unavailable.put(kind, reason);
    }

    /** A line printed under the tables (failures, errors counted by the load driver). */
    void note(String line) {
        notes.add(line);
    }

    double median(BenchSetup.Kind kind, Figure figure) {
        List<Double> values = samples.get(kind).get(figure).stream().filter(v -> !v.isNaN()).sorted().toList();
        if (values.isEmpty()) {
            return Double.NaN;
        }
        int n = values.size();
        return n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    }

    String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("Medians of the rounds (transfers in MiB/s, sessions per second, latencies in ms):\n\n");
        table(out, false);
        out.append("\nRatio to `direct` (median ÷ direct's median; for latencies higher is slower):\n\n");
        table(out, true);
        if (!unavailable.isEmpty() || !notes.isEmpty()) {
            out.append('\n');
        }
        unavailable.forEach((kind, reason) -> out.append("- `").append(kind.label).append("` not measured: ")
                .append(oneLine(reason)).append('\n'));
        notes.forEach(n -> out.append("- ").append(oneLine(n)).append('\n'));
        return out.toString();
    }

    private void table(StringBuilder out, boolean ratio) {
        out.append("| setup |");
        for (Figure figure : Figure.values()) {
            out.append(' ').append(figure.label).append(" |");
        }
        out.append("\n|---|");
        out.append("---:|".repeat(Figure.values().length)).append('\n');
        for (BenchSetup.Kind kind : BenchSetup.Kind.values()) {
            out.append("| ").append(kind.label).append(" |");
            for (Figure figure : Figure.values()) {
                double value = median(kind, figure);
                if (ratio) {
                    value = value / median(BenchSetup.Kind.DIRECT, figure);
                }
                out.append(' ').append(format(value, ratio)).append(" |");
            }
            out.append('\n');
        }
    }

    private static String format(double value, boolean ratio) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return "—";
        }
        if (ratio) {
            return String.format(Locale.ROOT, "%.2f", value);
        }
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.2f", value);
    }

    private static String oneLine(String text) {
        String flat = text.strip().replaceAll("\\s+", " ");
        return flat.length() > 400 ? flat.substring(0, 400) + " …" : flat;
    }
}
