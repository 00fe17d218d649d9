package io.ftpgate.session;

/** The data-connection dialect a client used (metric label, log word). */
enum DataMode {
    PASV, EPSV, PORT, EPRT
}
