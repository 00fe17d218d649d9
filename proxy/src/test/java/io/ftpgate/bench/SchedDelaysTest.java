package io.ftpgate.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import java.util.stream.Stream;

import io.ftpgate.testing.RootTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class SchedDelaysTest {

    @Test
    void timehistLinesAreGroupedByWhoWaits() {
        List<String> lines = new ArrayList<>(List.of(
                "           time    cpu  task name                       wait time  sch delay   run time",
                "                        [tid/pid]                          (msec)     (msec)     (msec)",
                "--------------- ------  ------------------------------  ---------  ---------  ---------",
                "   33461.031651 [0000]  multiThreadIoEv[17147/16464]        0.000      0.007      0.038 ",
                "   33461.032082 [0001]  multiThreadIoEv[17148/16464]        0.413      2.500      0.017 ",
                "   33461.032207 [0000]  vsftpd[10639]                       0.000      0.436      0.124 ",
                "   33461.042930 [0000]  ksoftirqd/0[14]                     0.000      0.164      0.002 ",
                "   33461.031553 [0001]  session-1[10229/10212]              0.000      1.000      0.083 ",
                "   33461.031600 [0001]  perf[10532]                         0.000      9.000      0.083 ",
                "   33461.031700 [0001]  <idle>                              0.000      0.000      0.083 ",
                "   33461.031800 [0001]  Java Thread Name[99/10212]           0.000      3.000      0.083 "));
        for (int i = 0; i < 98; i++) {
            lines.add("   33462.000000 [0000]  vsftpd[" + (20000 + i) + "]                       0.100      0.010      0.124 ");
        }

        Map<String, SchedDelays.Delays> d = SchedDelays.parse(lines.stream(), 16464);

        assertThat(d.keySet()).containsExactly("server", "softirq", "clients", "relay");
        assertThat(d.get("relay").wakeUps()).isEqualTo(2);
        assertThat(d.get("relay").max()).isEqualTo(2.5);
        assertThat(d.get("relay").sum()).isEqualTo(2.507, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(d.get("server").wakeUps()).isEqualTo(99);
        assertThat(d.get("server").p99()).as("99 wake-ups: the 99th percentile is the largest").isEqualTo(0.436);
        assertThat(d.get("server").max()).isEqualTo(0.436);
        assertThat(d.get("clients").wakeUps()).as("by thread name, whatever the process").isEqualTo(1);
        assertThat(d.get("softirq").describe()).isEqualTo("n=1 p99=0.16 p99.9=0.16 max=0.2 sum=0");
    }

    @Test
    void withoutARelayProcessThereIsNoRelayGroup() {
        Map<String, SchedDelays.Delays> d = SchedDelays.parse(Stream.of(
                "   1.000000 [0000]  haproxy[13112/13110]                0.000      0.500      2.896 "), -1);
        assertThat(d).isEmpty();
    }

    /** A real recording: two threads of this JVM hand a token back and forth, and their wake-ups are found. */
    @Test
    void recordsTheWakeUpsOfTheRelayProcess(@TempDir Path dir) throws Exception {
        RootTools.requireRootAndTools("perf");
        assertThat(SchedDelays.unavailable()).isNull();
        SchedDelays.Recording recording = SchedDelays.start(dir.resolve("sched.data"));
        SynchronousQueue<Integer> ping = new SynchronousQueue<>();
        SynchronousQueue<Integer> pong = new SynchronousQueue<>();
        Thread echo = new Thread(() -> {
            try {
                for (int i = 0; i < 500; i++) {
                    pong.put(ping.take());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        echo.start();
        for (int i = 0; i < 500; i++) {
            ping.put(i);
            pong.take();
            Thread.sleep(0, 200_000);
        }
        echo.join();
        Map<String, SchedDelays.Delays> d = recording.stop(ProcessHandle.current().pid());
        assertThat(d).containsKey("relay");
        assertThat(d.get("relay").wakeUps()).as("at least one wake-up per hand-off").isGreaterThanOrEqualTo(500);
        assertThat(dir.resolve("sched.data")).as("the recording is deleted").doesNotExist();
    }
}
