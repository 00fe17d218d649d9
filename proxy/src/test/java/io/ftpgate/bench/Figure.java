package io.ftpgate.bench;

import io.ftpgate.testing.FtpMode;

/** One column of the result table: what was measured, in which unit. */
enum Figure implements Labelled {
    RETR_PASV("RETR PASV", "MiB/s"),
    RETR_EPSV("RETR EPSV", "MiB/s"),
    RETR_PORT("RETR PORT", "MiB/s"),
    STOR_PASV("STOR PASV", "MiB/s"),
    STOR_EPSV("STOR EPSV", "MiB/s"),
    STOR_PORT("STOR PORT", "MiB/s"),
    /** ftpgate's CPU time (utime + stime, all threads) per GiB of the RETR PASV and STOR PASV; none for the others. */
    RETR_CPU("RETR CPU s/GiB", "s/GiB"),
    STOR_CPU("STOR CPU s/GiB", "s/GiB"),
    SESSIONS_SEQUENTIAL("sessions/s ×1", "1/s"),
    P50_SEQUENTIAL("p50 ×1", "ms"),
    P99_SEQUENTIAL("p99 ×1", "ms"),
    SESSIONS_CONCURRENT("sessions/s ×16", "1/s"),
    P50_CONCURRENT("p50 ×16", "ms"),
    P99_CONCURRENT("p99 ×16", "ms"),
    RETR_SESSIONS_SEQUENTIAL("RETR-1MiB sessions/s ×1", "1/s"),
    RETR_P50_SEQUENTIAL("RETR-1MiB p50 ×1", "ms"),
    RETR_P99_SEQUENTIAL("RETR-1MiB p99 ×1", "ms"),
    RETR_SESSIONS_CONCURRENT("RETR-1MiB sessions/s ×16", "1/s"),
    RETR_P50_CONCURRENT("RETR-1MiB p50 ×16", "ms"),
    RETR_P99_CONCURRENT("RETR-1MiB p99 ×16", "ms"),
    /** The relay process's CPU time (utime + stime, all threads) per LIST session with 16 clients: ftpgate or HAProxy. */
    SESSION_CPU("CPU ms/session ×16", "ms"),
    /** How long the relay process's threads waited in a run queue per LIST session with 16 clients ({@link CpuTime}). */
    SESSION_RUN_QUEUE("run-queue wait ms/session ×16", "ms");

    /** The transfer modes measured, in table order. */
    static final FtpMode[] MODES = {FtpMode.PASV, FtpMode.EPSV, FtpMode.PORT};

    final String label;
    final String unit;

    Figure(String label, String unit) {
        this.label = label;
        this.unit = unit;
    }

    @Override
    public String label() {
        return label;
    }

    static Figure retrieve(FtpMode mode) {
        return valueOf("RETR_" + mode.name());
    }

    static Figure store(FtpMode mode) {
        return valueOf("STOR_" + mode.name());
    }
}
