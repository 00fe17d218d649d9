package io.ftpgate.firewall;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code none} backend: changes nothing and logs, at INFO, each lease it would allow. For hosts
 * whose firewall already admits the data connections, and for demos and tests.
 */
public final class NoFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(NoFirewall.class);

    @Override
    public String name() {
        return "none";
    }

    @Override
    public int start() {
        return 0;
    }

    @Override
    public void apply(DataLease lease) {
        LOG.info("would allow: {}", lease);
    }

    @Override
    public void revoke(DataLease lease) {
        // Nothing was added, so nothing is removed.
    }

    @Override
    public void stop() {
        // Nothing to remove.
    }

    @Override
    public void intercept(Interception spec) {
        LOG.info("would intercept: {}", spec);
    }
}
