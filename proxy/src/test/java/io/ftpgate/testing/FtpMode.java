package io.ftpgate.testing;

/**
 * How the data connection is set up. PASV and PORT carry IPv4 addresses only (RFC 959 §4.1.2),
 * EPSV and EPRT work for both families (RFC 2428), so an IPv6 control connection can use only
 * the extended forms.
 */
public enum FtpMode {
    PASV(true, false),
    EPSV(true, true),
    PORT(false, false),
    EPRT(false, true);

    private final boolean passive;
    private final boolean extended;

    FtpMode(boolean passive, boolean extended) {
        this.passive = passive;
        this.extended = extended;
    }

    public boolean passive() {
        return passive;
    }

    public boolean usableOver(boolean ipv6Control) {
        return extended || !ipv6Control;
    }
}
