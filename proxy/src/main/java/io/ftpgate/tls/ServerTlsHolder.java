package io.ftpgate.tls;

import io.ftpgate.config.Settings;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A listener's current {@link ServerTls}, replaced on reload (SIGHUP): new FTP sessions take the
 * new certificate; running ones keep the {@link ServerTlsSession} they took at their start, so
 * their data connections go on resuming. A file that cannot be used leaves the old one in force.
 */
public final class ServerTlsHolder {

    private final AtomicReference<ServerTls> current;

    public ServerTlsHolder(ServerTls initial) {
        this.current = new AtomicReference<>(initial);
    }

    public ServerTls current() {
        return current.get();
    }

    /**
     * Reads the files of {@code settings} again and, if they are good, makes them current.
     *
     * @throws TlsMaterialException naming the file; the previous certificate stays current
     */
    public ServerTls reload(Settings.ListenerTls settings) throws TlsMaterialException {
        ServerTls next = ServerTls.load(settings);
        current.set(next);
        return next;
    }
}
