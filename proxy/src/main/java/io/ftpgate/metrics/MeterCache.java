package io.ftpgate.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

/**
 * The meters of one name, registered once per set of tag values and kept. Finding a registered
 * meter again from a builder (a new {@code Meter.Id}, its sorted tags, the registry's filters and
 * map) costs more than the increment itself, and it happened for every command and reply. The tag
 * values are few (enums, listener names, standard verbs), so the map stays small. Event loops of
 * several threads share it.
 */
final class MeterCache<K, M> {
    private final ConcurrentMap<K, M> meters = new ConcurrentHashMap<>();

    /** The meter for these tag values; {@code register} builds and registers it on first use. */
    M get(K key, Function<? super K, ? extends M> register) {
        M meter = meters.get(key); // no lock once registered: computeIfAbsent may lock the bin
        return meter != null ? meter : meters.computeIfAbsent(key, register);
    }
}
