package io.ftpgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ftpgate.testing.ExecResult;
import io.ftpgate.testing.RootTools;
import io.ftpgate.testing.VrrpPair;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README recipe 1, "one address per gateway, moved by keepalived": two gateways, each MASTER of its
 * own virtual address and BACKUP of the other's, vrrp_script on ftpgate's /ready. Sessions to
 * either address transfer (curl with EPSV and with PASV); when one ftpgate dies its address moves
 * to the other gateway within seconds and new sessions to it work there; when it comes back and is
 * ready, the address returns (keepalived's default preemption).
 */
@Tag("netns")
@Timeout(180)
class KeepalivedRecipeIT {
    private static final String JAR = System.getProperty("ftpgate.jar");

    /** curl from the client namespace: a listing and a 1 MiB download (demo's sample.bin), EPSV or PASV. */
    private static void transfers(VrrpPair pair, String vip, boolean epsv) {
        String url = "ftp://" + vip + "/";
        ExecResult listing = pair.tryExec(pair.client, "curl", "-sS", "--max-time", "15", epsv ? "--ftp-pasv" : "--disable-epsv", url);
        assertThat(listing.ok()).as(listing.describe()).isTrue();
        assertThat(listing.stdout()).contains("sample.bin");
        ExecResult download = pair.tryExec(pair.client, "sh", "-c",
                "curl -sS --max-time 15 " + (epsv ? "" : "--disable-epsv ") + url + "sample.bin | sha256sum");
        assertThat(download.ok()).as(download.describe()).isTrue();
        assertThat(download.stdout()).startsWith(SAMPLE_SHA256 + " ");
    }

    /** Demo.start writes 1 MiB from new Random(42) as sample.bin: the same file on both gateways. */
    static final String SAMPLE_SHA256 = sampleSha256();

    private static String sampleSha256() {
        byte[] sample = new byte[1 << 20];
        new java.util.Random(42).nextBytes(sample);
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(sample));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double sessions(VrrpPair pair, String ns) {
        ExecResult m = pair.tryExec(ns, "curl", "-s", "--max-time", "2", "http://127.0.0.1:9121/metrics");
        return m.stdout().lines().filter(l -> l.startsWith("ftpgate_sessions_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static void awaitHolder(VrrpPair pair, String ns, String vip, Duration within) {
        await(vip + " on " + ns).atMost(within).pollInterval(Duration.ofMillis(200)).until(() -> pair.holds(ns, vip));
    }

    private static void awaitReady(VrrpPair pair, String ns) {
        await("ftpgate ready in " + ns).atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(300)).until(() ->
                pair.tryExec(ns, "curl", "-fsS", "--max-time", "1", "http://127.0.0.1:9121/ready").ok());
    }

    @Test
    void eachAddressServesOnItsGatewayAndMovesWhenItsFtpgateDies() throws Exception {
        RootTools.requireRootAndTools("ip", "keepalived", "curl", "sha256sum");
        assertThat(JAR).as("system property ftpgate.jar (run with mvn verify)").isNotNull();
        try (VrrpPair pair = VrrpPair.create()) {
            pair.startGateway(pair.a, JAR);
            pair.startGateway(pair.b, JAR);
            awaitReady(pair, pair.a);
            awaitReady(pair, pair.b);
            pair.startKeepalived(pair.a, VrrpPair.VIP1, VrrpPair.VIP2);
            pair.startKeepalived(pair.b, VrrpPair.VIP2, VrrpPair.VIP1);
            awaitHolder(pair, pair.a, VrrpPair.VIP1, Duration.ofSeconds(20));
            awaitHolder(pair, pair.b, VrrpPair.VIP2, Duration.ofSeconds(20));
            assertThat(pair.holds(pair.b, VrrpPair.VIP1)).isFalse();

            for (boolean epsv : new boolean[] {true, false}) {
                transfers(pair, VrrpPair.VIP1, epsv);
                transfers(pair, VrrpPair.VIP2, epsv);
            }
            assertThat(sessions(pair, pair.a)).as("VIP1's sessions, on a only").isEqualTo(4);
            assertThat(sessions(pair, pair.b)).as("VIP2's sessions, on b only").isEqualTo(4);

            long t0 = System.nanoTime();
            VrrpPair.crash(pair.gateway(pair.a));
            awaitHolder(pair, pair.b, VrrpPair.VIP1, Duration.ofSeconds(10));
            long moved = (System.nanoTime() - t0) / 1_000_000;
            assertThat(pair.holds(pair.a, VrrpPair.VIP1)).as("a gave VIP1 up").isFalse();
            transfers(pair, VrrpPair.VIP1, true);
            assertThat(sessions(pair, pair.b)).as("VIP1's new session, on b").isEqualTo(6);

            pair.startGateway(pair.a, JAR);
            awaitReady(pair, pair.a);
            awaitHolder(pair, pair.a, VrrpPair.VIP1, Duration.ofSeconds(15));
            transfers(pair, VrrpPair.VIP1, false);
            assertThat(sessions(pair, pair.a)).as("the restarted a serves VIP1 again").isEqualTo(2);
            System.out.printf("VIP1 moved to b %d ms after ftpgate on a was killed%n", moved);
        }
    }
}
