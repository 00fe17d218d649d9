package io.ftpgate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test side of a {@link ControlProbe} running in the client namespace: one logged-in control session. */
public final class ProbeSession implements AutoCloseable {

    private static final Pattern PASV_PORT = Pattern.compile("\\(\\d+,\\d+,\\d+,\\d+,(\\d+),(\\d+)\\)");
    private static final Pattern EPSV_PORT = Pattern.compile("\\(\\|\\|\\|(\\d+)\\|\\)");

    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final Path log;

    private ProbeSession(Process process, Path log) {
        this.process = process;
        this.log = log;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    /**
     * Starts the probe with this JVM's test class path, its control connection from the client's
     * address of the endpoint's family, and waits until it has logged in.
     */
    public static ProbeSession open(Topology topology, FtpEndpoint endpoint) {
        Path log = topology.workDir().resolve("probe-" + System.nanoTime() + ".log");
        Process process = topology.startInteractive(topology.client, log, Topology.JAVA, "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ControlProbe.class.getName(),
                endpoint.host(), String.valueOf(endpoint.port()), FtpClientTool.clientAddress(endpoint), endpoint.user());
        ProbeSession session = new ProbeSession(process, log);
        String first = session.readLine();
        if (!first.equals("READY")) {
            throw new AssertionError("probe could not log in through " + endpoint + ": " + first + session.stderr());
        }
        return session;
    }

    /** Sends one FTP command and returns the last line of the reply, e.g. {@code 229 ... (|||40017|)}. */
    public String command(String line) {
        in.println("CMD " + line);
        String answer = readLine();
        if (!answer.startsWith("REPLY ")) {
            throw new AssertionError("probe answered '" + answer + "' to " + line + stderr());
        }
        return answer.substring("REPLY ".length());
    }

    /** Whether a TCP connection from {@code bind} to {@code host:port} is accepted within 2 s. */
    public String connect(String bind, String host, int port) {
        in.println("CONNECT " + bind + " " + host + " " + port);
        return readLine();
    }

    /** Opens a data connection like {@link #connect} and keeps it for {@link #retrieve}. */
    public String open(String bind, String host, int port) {
        in.println("OPEN " + bind + " " + host + " " + port);
        return readLine();
    }

    /**
     * RETR over the connection {@link #open} made: {@code RETRIEVED <bytes> <sha-256> <final reply>}
     * or {@code FAILED ...}.
     */
    public String retrieve(String file) {
        in.println("RETR " + file);
        return readLine();
    }

    /** The data port announced by a 227 or 229 reply. */
    public static int announcedPort(String reply) {
        Matcher epsv = EPSV_PORT.matcher(reply);
        if (reply.startsWith("229") && epsv.find()) {
            return Integer.parseInt(epsv.group(1));
        }
        Matcher pasv = PASV_PORT.matcher(reply);
        if (reply.startsWith("227") && pasv.find()) {
            return Integer.parseInt(pasv.group(1)) * 256 + Integer.parseInt(pasv.group(2));
        }
        throw new AssertionError("not a 227/229 reply with a port: " + reply);
    }

    private String readLine() {
        try {
            String line = out.readLine();
            if (line == null) {
                throw new AssertionError("probe exited" + stderr());
            }
            return line;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String stderr() {
        try {
            String text = Files.readString(log);
            return text.isBlank() ? "" : "\nprobe stderr:\n" + text;
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            in.println("QUIT");
            in.close();
            try {
                if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
