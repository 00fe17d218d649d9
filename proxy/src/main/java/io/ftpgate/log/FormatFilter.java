package io.ftpgate.log;

import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Lets an appender of {@code logback.xml} write only when its {@code format} is the
 * {@code selected} one ({@code ${FTPGATE_LOG_FORMAT:-text}}): both stdout appenders stay declared
 * and referenced (logback would otherwise warn at every start about the one left out), one writes.
 */
public final class FormatFilter<E> extends Filter<E> {
    private String format = "";
    private String selected = "";
    private boolean on;

    public void setFormat(String format) {
        this.format = format;
    }

    public void setSelected(String selected) {
        this.selected = selected;
    }

    @Override
    public void start() {
        on = format.equals(selected);
        super.start();
    }

    @Override
    public FilterReply decide(E event) {
        return on ? FilterReply.NEUTRAL : FilterReply.DENY;
    }
}
