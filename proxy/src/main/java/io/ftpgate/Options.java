package io.ftpgate;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;

/**
 * The command line, as picocli reads it: every option with its help line, the exit codes in the
 * usage text, and what the bash completion script offers (file names for {@code --config}, the
 * backends for {@code --firewall}). {@link Main} decides what to do with it.
 */
@Command(name = "ftpgate", sortOptions = false, abbreviateSynopsis = true, usageHelpAutoWidth = false, usageHelpWidth = 100,
        versionProvider = Options.Version.class,
        description = "FTP application-level gateway with exact, transient firewall leases.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:ok",
            "1:run-time failure (a port in use, the firewall cannot be set up)",
            "2:usage error",
            "78:configuration error (the message names file, line and key)"},
        footerHeading = "%nEnvironment:%n",
        footer = {
            "  FTPGATE_LOG_LEVEL    INFO (default) or DEBUG (every command, passwords masked), WARN, ERROR",
            "  FTPGATE_LOG_FORMAT   text (default: one line per event) or json (one object per line)",
            "  FTPGATE_XFERLOG      a file that also gets every transfer in wu-ftpd xferlog format"})
final class Options {
    @Option(names = "--config", paramLabel = "FILE",
            description = "settings file (HOCON); without it, the built-in defaults")
    Path config;

    @Option(names = {"-t", "--check-config"},
            description = "read and check the settings (TLS certificates and keys too: do they match, when do"
                    + " they expire), say whether they are fine, exit (0 or 78)")
    boolean checkConfig;

    @Option(names = {"-T", "--print-config"},
            description = "check the settings as --check-config does, and print the effective settings as HOCON,"
                    + " each value with the file and line it comes from, secrets masked")
    boolean printConfig;

    @Option(names = "--cleanup-firewall",
            description = "remove every firewall rule, chain, jump and set ftpgate made, exit")
    boolean cleanupFirewall;

    @Option(names = "--print-firewall",
            description = "print the interception rules and routes a transparent listener needs (for admins who"
                    + " install them themselves), exit")
    boolean printFirewall;

    @Option(names = "--demo",
            description = "start an embedded FTP server and a gateway in front of it, firewall 'none'; try:"
                    + " curl ftp://127.0.0.1:2121/")
    boolean demo;

    @Option(names = "--listen", paramLabel = "ADDR:PORT",
            description = "a listener address (repeatable; IPv6 as [ADDR]:PORT); needs --upstream")
    final List<String> listen = new ArrayList<>();

    @Option(names = "--upstream", paramLabel = "HOST:PORT", description = "the FTP server for the --listen addresses")
    String upstream;

    @Option(names = "--firewall", paramLabel = "BACKEND", completionCandidates = Backends.class,
            description = "firewall backend: ${COMPLETION-CANDIDATES}")
    String firewall;

    @Option(names = "--completion", description = "print a bash completion script for ftpgate, exit")
    boolean completion;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "print the version, exit")
    boolean version;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help, exit")
    boolean help;

    Optional<Path> configFile() {
        return Optional.ofNullable(config);
    }

    /** Checks what picocli cannot express; the message becomes a usage error. */
    Optional<String> problem() {
        if (!demo && (upstream == null) != listen.isEmpty()) {
            return Optional.of("--listen and --upstream go together");
        }
        return Optional.empty();
    }

    /** Command-line settings as configuration paths (they win over the file). */
    Map<String, Object> overrides() {
        Map<String, Object> m = new HashMap<>();
        if (upstream != null) {
            m.put("ftpgate.listeners.cli.listen", listen);
            m.put("ftpgate.listeners.cli.upstream", upstream);
        }
        if (firewall != null) {
            m.put("ftpgate.firewall.backend", firewall);
        }
        return m;
    }

    /** The values of {@code --firewall}, for the help text and the completion script. */
    static final class Backends implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("ipset", "iptables", "nftables", "none").iterator();
        }
    }

    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"ftpgate " + Main.version()};
        }
    }
}
