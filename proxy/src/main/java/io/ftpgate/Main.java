package io.ftpgate;

import com.typesafe.config.ConfigFactory;
import io.ftpgate.config.ConfigError;
import io.ftpgate.config.Settings;
import io.ftpgate.config.SettingsLoader;
import io.ftpgate.firewall.FirewallException;
import io.ftpgate.log.LogFormat;
import io.ftpgate.tls.TlsConfigCheck;
import io.ftpgate.tls.TlsMaterialException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;

/** The command line ({@link Options}). Exit codes: 0 done, 1 failed at run time, 2 bad usage, 78 bad configuration. */
public final class Main {
    /** The logging context's property that logback.xml puts in every line. */
    static final String INSTANCE_PROPERTY = "ftpgate.instance";
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    /** sysexits.h EX_CONFIG; systemd units use it to not restart on a configuration error. */
    static final int EXIT_CONFIG = 78;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o = new Options();
        CommandLine cli = new CommandLine(o);
        try {
            cli.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return usageError(cli, e.getMessage(), err);
        }
        if (cli.isUsageHelpRequested()) {
            cli.usage(out);
            return EXIT_OK;
        }
        if (cli.isVersionHelpRequested()) {
            cli.printVersionHelp(out);
            return EXIT_OK;
        }
        if (o.completion) {
            out.print(AutoComplete.bash("ftpgate", cli));
            return EXIT_OK;
        }
        Optional<String> problem = o.problem();
        if (problem.isPresent()) {
            return usageError(cli, problem.get(), err);
        }
        boolean check = o.checkConfig || o.printConfig;
        if (check || o.cleanupFirewall || o.printFirewall) {
            LogFormat.oneShot();
        }
        ConfigCheckReport report = new ConfigCheckReport(o.configFile(), err);
        Settings settings;
        try {
            Optional<String> logFormat = LogFormat.problem(System.getenv());
            if (logFormat.isPresent()) {
                throw new ConfigError(logFormat.get());
            }
            settings = SettingsLoader.load(o.configFile(), ConfigFactory.parseMap(o.overrides(), "command line"));
            if (!o.demo && !o.cleanupFirewall && !o.printFirewall && settings.listeners().isEmpty()) {
                throw new ConfigError("no listener: add ftpgate.listeners in --config FILE, or give --listen and --upstream");
            }
        } catch (ConfigError e) {
            err.println("ftpgate: configuration error: " + e.getMessage());
            if (check) {
                report.failed();
            }
            if (o.cleanupFirewall) {
                // ExecStopPost after a crash must not leave rules behind because the file broke meanwhile.
                err.println("ftpgate: removing the firewall objects named by the built-in defaults instead");
                try {
                    return cleanupFirewall(SettingsLoader.load(Optional.empty(), ConfigFactory.empty()), out, err);
                } catch (ConfigError defaults) {
                    throw new IllegalStateException("the built-in settings are invalid", defaults);
                }
            }
            return EXIT_CONFIG;
        }
        if (check) {
            report.syntaxOk();
            try {
                TlsConfigCheck.check(settings, Instant.now()).forEach(line -> err.println("ftpgate: " + line));
                if (o.printConfig) {
                    out.print(SettingsLoader.render(o.configFile(), ConfigFactory.parseMap(o.overrides(), "command line")));
                }
            } catch (TlsMaterialException | ConfigError e) {
                err.println("ftpgate: configuration error: " + e.getMessage());
                report.failed();
                return EXIT_CONFIG;
            }
            report.successful();
            return EXIT_OK;
        }
        if (o.cleanupFirewall) {
            return cleanupFirewall(settings, out, err);
        }
        if (o.printFirewall) {
            var firewall = Gateway.firewallFor(settings);
            Settings.PortRange ports = settings.data().portRange();
            (settings.data().path() == Settings.DataPath.KERNEL ? firewall.describeLeaseObjects(ports.first(), ports.last())
                    : firewall.describeLeaseObjects()).forEach(out::println);
            Gateway.interception(settings).ifPresentOrElse(
                    spec -> firewall.describeIntercept(spec).forEach(out::println),
                    () -> out.println("# no transparent listener: nothing to intercept"));
            return EXIT_OK;
        }
        // Every log line names the instance (logback.xml: %property{ftpgate.instance}).
        if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logs) {
            logs.putProperty(INSTANCE_PROPERTY, settings.instanceName());
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        Optional<SystemdNotify> systemd = SystemdNotify.fromEnvironment();
        try {
            AutoCloseable running = o.demo ? Demo.start(settings, o.listen) : Gateway.start(settings);
            Gateway gateway = running instanceof Gateway g ? g : ((Demo) running).gateway();
            onSignal("HUP", () -> {
                if (o.demo) {
                    log.info("reload: the demo has no settings file to reload");
                    return;
                }
                systemd.ifPresent(SystemdNotify::reloading);
                reload(gateway, o, log);
                systemd.ifPresent(n -> n.ready(gateway.statusLine()));
            });
            // SIGTERM/SIGINT end the process normally (exit 0) after the drain; the hook covers any
            // other way the JVM may go down. close() is idempotent. Both before READY=1: systemd may
            // send SIGTERM as soon as it has READY, and the JVM's default handler would skip the drain.
            // SIGUSR1: drain without exiting (POST /undrain ends it). Not SIGUSR2: HotSpot suspends
            // and resumes threads with it on Linux (PosixSignals::SR_signum), and replacing its
            // handler would break that.
            onSignal("USR1", () -> {
                log.info("SIGUSR1: {}", gateway.drain());
                systemd.ifPresent(n -> n.status("draining: " + gateway.statusLine()));
            });
            CountDownLatch stop = new CountDownLatch(1);
            onSignal("TERM", stop::countDown);
            onSignal("INT", stop::countDown);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> closeQuietly(running, log), "ftpgate-shutdown"));
            ScheduledExecutorService watchdog = startWatchdog(systemd, gateway, log);
            // READY=1 only now: every listener and the metrics endpoint are bound.
            systemd.ifPresent(n -> n.ready(gateway.statusLine()));
            stop.await();
            systemd.ifPresent(n -> {
                n.stopping();
                n.status("draining " + gateway.activeSessions() + " session(s)");
            });
            closeQuietly(running, log);
            watchdog.shutdownNow();
            systemd.ifPresent(SystemdNotify::close);
            return EXIT_OK;
        } catch (FirewallException e) {
            log.error("cannot set up the firewall: {} (the iptables, ipset and nftables backends need root or CAP_NET_ADMIN)", e.getMessage());
            return EXIT_FAILED;
        } catch (IOException e) {
            log.error("cannot start: {}", e.getMessage());
            return EXIT_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return EXIT_FAILED;
        }
    }

    /**
     * SIGHUP / {@code systemctl reload}: the settings are read and checked again; a bad file is
     * refused with a log line and the running settings stay; a good one applies to new sessions.
     */
    static void reload(Gateway gateway, Options o, Logger log) {
        log.info("reload requested: reading {}", o.configFile().map(Path::toString).orElse("the built-in settings"));
        try {
            Settings next = SettingsLoader.load(o.configFile(), ConfigFactory.parseMap(o.overrides(), "command line"));
            if (next.listeners().isEmpty()) {
                throw new ConfigError("no listener: the reloaded settings define none");
            }
            gateway.reload(next);
        } catch (ConfigError e) {
            log.error("reload refused, the running settings stay in force: configuration error: {}", e.getMessage());
        } catch (IOException e) {
            log.error("reload refused, the running settings stay in force: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("sunapi")
    private static void onSignal(String name, Runnable action) {
        // sun.misc.Signal is the JDK's only way to catch SIGHUP; the handler runs on its own thread.
        sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> action.run());
    }

    /** Removes ftpgate's firewall objects (after a crash, or from a unit's ExecStopPost). */
    static int cleanupFirewall(Settings settings, PrintStream out, PrintStream err) {
        // Backends none and iptables: remove ftpgate's chains, jumps and interception (whatever a
        // crashed run left lives there). Backend ipset: the same, then ftpgate's sets.
        // Backend nftables: ftpgate's table and the rules it inserted into the admin's chains.
        Settings.Firewall f = settings.firewall();
        Settings.Backend backend = switch (f.backend()) {
            case IPSET, NFTABLES -> f.backend();
            case IPTABLES, NONE -> Settings.Backend.IPTABLES;
        };
        var firewall = Gateway.firewallFor(f.withBackend(backend), settings.data().connectTimeout());
        try {
            firewall.stop();
            out.println("ftpgate: removed the " + firewall.name() + " firewall objects of ftpgate ("
                    + (backend == Settings.Backend.NFTABLES ? "table inet " + f.nftables().table()
                            : "chain prefix " + f.chainPrefix()) + ")");
            return EXIT_OK;
        } catch (FirewallException e) {
            err.println("ftpgate: cannot remove the firewall objects: " + e.getMessage());
            return EXIT_FAILED;
        }
    }

    /** WATCHDOG=1 every half WatchdogSec, but only while every event loop still answers. */
    private static ScheduledExecutorService startWatchdog(Optional<SystemdNotify> systemd, Gateway gateway, Logger log) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ftpgate-watchdog");
            t.setDaemon(true);
            return t;
        });
        systemd.ifPresent(n -> n.watchdogInterval().ifPresent(every -> timer.scheduleAtFixedRate(() -> {
            if (gateway.isHealthy()) {
                n.watchdog();
            } else {
                log.error("watchdog: an event loop did not answer within a second; not telling systemd we are alive");
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS)));
        return timer;
    }

    private static void closeQuietly(AutoCloseable running, Logger log) {
        try {
            running.close();
        } catch (Exception e) {
            log.error("error while stopping: {}", e.toString());
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }

    private static int usageError(CommandLine cli, String message, PrintStream err) {
        err.println("ftpgate: " + message);
        CommandLine.Help help = cli.getHelp();
        err.print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
        err.println("Try 'ftpgate --help' for more information.");
        return EXIT_USAGE;
    }
}
