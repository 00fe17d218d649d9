package io.ftpgate.firewall.nftables;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What ftpgate reads from nft: the admin's chains as {@code FAMILY TABLE CHAIN}, and the parsers of
 * nft's listings ({@code nft -a -t list ruleset}: base chains with hook and priority, rules with
 * their handles; {@code nft list table}: how many elements the sets hold). Pure; tested with
 * listings nft printed.
 */
public final class NftListing {

    private static final Pattern HANDLE = Pattern.compile("# handle (\\d+)$");
    private static final Pattern TABLE = Pattern.compile("^table (\\S+) (\\S+) \\{");
    private static final Pattern CHAIN = Pattern.compile("^\\tchain (\\S+) \\{");
    private static final Pattern BASE = Pattern.compile("^\\t\\ttype \\S+ hook (\\S+)(?: device \\S+)? priority ([^;]+);");

    private NftListing() {
    }

    /** A chain of some table: {@code inet filter input}. */
    public record HookChain(String family, String table, String chain) {

        private static final Pattern FORM = Pattern.compile("(ip|ip6|inet) ([A-Za-z0-9_.-]+) ([A-Za-z0-9_.-]+)");

        /** Parses {@code FAMILY TABLE CHAIN}; family ip, ip6 or inet. */
        public static HookChain parse(String text) {
            Matcher m = FORM.matcher(text.strip().replaceAll("\\s+", " "));
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not FAMILY TABLE CHAIN (family ip, ip6 or inet)");
            }
            return new HookChain(m.group(1), m.group(2), m.group(3));
        }

        @Override
        public String toString() {
            return family + " " + table + " " + chain;
        }
    }

    /** A base chain as listed: its hook and priority (a number; {@code filter} is 0). */
    public record BaseChain(HookChain chain, String hook, int priority) {}

    /** A rule as listed with {@code -a}: its chain and handle. */
    public record ListedRule(HookChain chain, int handle) {}

    /** What {@code nft -a -t list ruleset} says: base chains and ftpgate's managed rules. */
    public record Ruleset(List<BaseChain> baseChains, List<ListedRule> managedRules, boolean hasTable) {

        public java.util.Optional<BaseChain> baseChain(HookChain chain) {
            return baseChains.stream().filter(b -> b.chain().equals(chain)).findFirst();
        }
    }

    /**
     * Parses {@code nft -a -t list ruleset}: every base chain, every rule carrying
     * {@code comment "managedComment"}, and whether table {@code table} ({@code inet ftpgate}) exists.
     */
    static Ruleset ruleset(String listing, String table, String managedComment) {
        List<BaseChain> bases = new ArrayList<>();
        List<ListedRule> managed = new ArrayList<>();
        String managedMarker = "comment \"" + managedComment + "\"";
        String[] currentTable = null;
        HookChain current = null;
        boolean hasTable = false;
        for (String line : listing.split("\n")) {
            Matcher t = TABLE.matcher(line);
            if (t.find()) {
                currentTable = new String[] {t.group(1), t.group(2)};
                current = null;
                hasTable |= (t.group(1) + " " + t.group(2)).equals(table);
                continue;
            }
            Matcher c = CHAIN.matcher(line);
            if (c.find() && currentTable != null) {
                current = new HookChain(currentTable[0], currentTable[1], c.group(1));
                continue;
            }
            if (line.startsWith("\t") && !line.startsWith("\t\t")) {
                current = null; // a set, map, flowtable, or the end of a chain
                continue;
            }
            if (current == null) {
                continue;
            }
            Matcher b = BASE.matcher(line);
            if (b.find()) {
                bases.add(new BaseChain(current, b.group(1), priorityValue(b.group(2).strip())));
                continue;
            }
            Matcher h = HANDLE.matcher(line.strip());
            if (h.find() && line.contains(managedMarker)) {
                managed.add(new ListedRule(current, Integer.parseInt(h.group(1))));
            }
        }
        return new Ruleset(bases, managed, hasTable);
    }

    /** How many elements the sets of a {@code nft list table} listing hold (each has two " . "). */
    static int elements(String tableListing) {
        int separators = 0;
        boolean inElements = false;
        for (String line : tableListing.split("\n")) {
            if (line.contains("elements = {")) {
                inElements = true;
            }
            if (inElements) {
                for (int i = line.indexOf(" . "); i >= 0; i = line.indexOf(" . ", i + 3)) {
                    separators++;
                }
                if (line.contains("}")) {
                    inElements = false;
                }
            }
        }
        return separators / 2;
    }

    /** The number of a listed priority: {@code filter - 10}, {@code mangle}, {@code -5}. */
    static int priorityValue(String text) {
        Matcher m = Pattern.compile("^(raw|mangle|dstnat|filter|security|srcnat|out|[-+]?\\d+)(?: ([-+]) (\\d+))?$")
                .matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown priority '" + text + "'");
        }
        int base = switch (m.group(1)) {
            case "raw" -> -300;
            case "mangle" -> -150;
            case "dstnat" -> -100;
            case "filter" -> 0;
            case "security" -> 50;
            case "srcnat" -> 100;
            case "out" -> 100;
            default -> Integer.parseInt(m.group(1));
        };
        if (m.group(2) == null) {
            return base;
        }
        int offset = Integer.parseInt(m.group(3));
        return m.group(2).equals("-") ? base - offset : base + offset;
    }
}
