package io.ftpgate.bench;

/** A row (setup) or column (figure) of a {@link ResultTable}: its label in the Markdown table. */
interface Labelled {
    String label();
}
