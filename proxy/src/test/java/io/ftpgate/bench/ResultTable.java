package io.ftpgate.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The samples of one run and their Markdown rendering: per setup (row) and figure (column) the
 * median of the rounds, and the ratio of that median to the baseline setup's ({@code direct} for
 * plain FTP). A setup that was not measured shows {@code —} and its reason below the tables; a
 * figure whose every round failed, or that the baseline does not have, shows {@code —}.
 *
 * @param <R> the setups
 * @param <C> the figures
 */
final class ResultTable<R extends Enum<R> & Labelled, C extends Enum<C> & Labelled> {

    private final Class<R> rows;
    private final Class<C> columns;
    private final R baseline;
    private final String units;
    private final Map<R, Map<C, List<Double>>> samples = new LinkedHashMap<>();
    private final Map<R, String> unavailable;
    private final List<String> notes = new ArrayList<>();

    /** @param units what the medians are in, e.g. {@code transfers in MiB/s} */
    ResultTable(Class<R> rows, Class<C> columns, R baseline, String units) {
        this.rows = rows;
        this.columns = columns;
        this.baseline = baseline;
        this.units = units;
        this.unavailable = new EnumMap<>(rows);
        for (R row : rows.getEnumConstants()) {
            Map<C, List<Double>> figures = new EnumMap<>(columns);
            for (C column : columns.getEnumConstants()) {
                figures.put(column, new ArrayList<>());
            }
            samples.put(row, figures);
        }
    }

    /** The plain-FTP table: {@link BenchSetup.Kind} by {@link Figure}, ratios to {@code direct}. */
    static ResultTable<BenchSetup.Kind, Figure> plain() {
        return new ResultTable<>(BenchSetup.Kind.class, Figure.class, BenchSetup.Kind.DIRECT,
                "transfers in MiB/s, sessions per second, latencies in ms");
    }

    void add(R kind, C figure, double value) {
        samples.get(kind).get(figure).add(value);
    }

    void unavailable(R kind, String reason) {
        unavailable.put(kind, reason);
    }

    /** A line printed under the tables (failures, errors counted by the load driver). */
    void note(String line) {
        notes.add(line);
    }

    double median(R kind, C figure) {
        List<Double> values = samples.get(kind).get(figure).stream().filter(v -> !v.isNaN()).sorted().toList();
        if (values.isEmpty()) {
            return Double.NaN;
        }
        int n = values.size();
        return n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    }

    String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("Medians of the rounds (").append(units).append("):\n\n");
        table(out, false);
        out.append("\nRatio to `").append(baseline.label()).append("` (median ÷ ").append(baseline.label())
                .append("'s median; for latencies and CPU higher is slower):\n\n");
        table(out, true);
        if (!unavailable.isEmpty() || !notes.isEmpty()) {
            out.append('\n');
        }
        unavailable.forEach((kind, reason) -> out.append("- `").append(kind.label()).append("` not measured: ")
                .append(oneLine(reason)).append('\n'));
        notes.forEach(n -> out.append("- ").append(oneLine(n)).append('\n'));
        return out.toString();
    }

    private void table(StringBuilder out, boolean ratio) {
        C[] figures = columns.getEnumConstants();
        out.append("| setup |");
        for (C figure : figures) {
            out.append(' ').append(figure.label()).append(" |");
        }
        out.append("\n|---|");
        out.append("---:|".repeat(figures.length)).append('\n');
        for (R kind : rows.getEnumConstants()) {
            out.append("| ").append(kind.label()).append(" |");
            for (C figure : figures) {
                double value = median(kind, figure);
                if (ratio) {
                    value = value / median(baseline, figure);
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
