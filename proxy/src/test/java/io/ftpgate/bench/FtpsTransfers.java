package io.ftpgate.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The FTPS part of the benchmark: the {@link FtpsSetup}s built side by side, a download and an
 * upload of {@link BenchOptions#ftpsBytes()} random bytes per setup and round (order rotated per
 * round), as medians and ratios to {@code direct-ftps}, with ftpgate's CPU seconds per GiB.
 */
final class FtpsTransfers {

    /** One column of the FTPS table. */
    enum Column implements Labelled {
        RETR("RETR MiB/s"), STOR("STOR MiB/s"), RETR_CPU("RETR CPU s/GiB"), STOR_CPU("STOR CPU s/GiB");

        final String label;

        Column(String label) {
            this.label = label;
        }

        @Override
        public String label() {
            return label;
        }
    }

    private FtpsTransfers() {
    }

    /** Measures every FTPS setup in {@code scratch} (left for the caller to delete) and returns the table. */
    static ResultTable<FtpsSetup.Kind, Column> measure(BenchOptions options, Path scratch, Consumer<String> log) {
        ResultTable<FtpsSetup.Kind, Column> table = new ResultTable<>(FtpsSetup.Kind.class, Column.class,
                FtpsSetup.Kind.DIRECT, "transfers in MiB/s, ftpgate's CPU in seconds per GiB relayed");
        List<FtpsSetup> setups = new ArrayList<>();
        try {
            Path retr = scratch.resolve("ftps-retr.bin");
            Path upload = scratch.resolve("ftps-upload.bin");
            String retrSha = randomFile(retr, options.ftpsBytes(), 1);
            String uploadSha = randomFile(upload, options.ftpsBytes(), 2);
            for (FtpsSetup.Kind kind : FtpsSetup.Kind.values()) {
                log.accept("setting up " + kind.label);
                FtpsSetup setup = FtpsSetup.start(kind, retr, retrSha, upload, uploadSha);
                setups.add(setup);
                if (setup.unavailable != null) {
                    table.unavailable(kind, setup.unavailable);
                    log.accept(kind.label + " not measured: " + setup.unavailable);
                } else {
                    table.note("`" + kind.label + "`: curl negotiated " + setup.negotiated()
                            + (kind == FtpsSetup.Kind.DIRECT ? " with vsftpd" : " with ftpgate"));
                }
            }
            List<FtpsSetup> measured = setups.stream().filter(s -> s.unavailable == null).toList();
            for (int r = 1; r <= options.rounds(); r++) {
                log.accept("FTPS round " + r + " of " + options.rounds());
                List<FtpsSetup> order = new ArrayList<>(measured);
                Collections.rotate(order, r);
                for (FtpsSetup setup : order) {
                    record(table, setup, true, () -> setup.retrieve(options.ftpsBytes()));
                }
                for (FtpsSetup setup : order) {
                    record(table, setup, false, () -> setup.store(upload, options.ftpsBytes()));
                }
            }
            return table;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            setups.forEach(FtpsSetup::close);
        }
    }

    private interface Transfer {
        FtpsSetup.Sample run();
    }

    private static void record(ResultTable<FtpsSetup.Kind, Column> table, FtpsSetup setup, boolean retr, Transfer transfer) {
        try {
            FtpsSetup.Sample sample = transfer.run();
            table.add(setup.kind, retr ? Column.RETR : Column.STOR, sample.mibPerSecond());
            table.add(setup.kind, retr ? Column.RETR_CPU : Column.STOR_CPU, sample.cpuSecondsPerGib());
        } catch (BenchSetup.BenchFailure e) {
            table.note(setup.kind.label + (retr ? " RETR" : " STOR") + " failed: " + e.getMessage());
        }
    }

    /** Writes {@code bytes} random bytes (readable by vsftpd) and returns their SHA-256. */
    private static String randomFile(Path file, long bytes, long seed) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            SplittableRandom random = new SplittableRandom(seed);
            byte[] block = new byte[1 << 20];
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
                for (long left = bytes; left > 0; left -= block.length) {
                    random.nextBytes(block);
                    out.write(block, 0, (int) Math.min(block.length, left));
                }
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The section of the report: what was measured, then the tables. */
    static String report(BenchOptions options, ResultTable<FtpsSetup.Kind, Column> table) {
        return String.format(Locale.ROOT, "%nFTPS (%s each way, PASV, PROT P, %d round(s); curl --ssl-reqd -k in the client"
                + " namespace; vsftpd with ssl_enable, require_ssl_reuse=YES, strict_ssl_read_eof=YES; `ftpgate-ftps`"
                + " terminates TLS on both legs, explicit FTPS to the client and to vsftpd (verify = ca-file),"
                + " tls.provider = jdk; `ftpgate-ftps-openssl` the same with tls.provider = openssl; CPU = utime+stime of"
                + " the ftpgate JVM around each transfer; each transfer's byte count checked, one download and one upload"
                + " per setup checked by SHA-256):%n%n", Benchmark.size(options.ftpsBytes()), options.rounds())
                + table.markdown();
    }
}
