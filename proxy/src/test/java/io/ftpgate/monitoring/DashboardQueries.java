package io.ftpgate.monitoring;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The queries of the Grafana dashboard, with Grafana's variables replaced by what Grafana would
 * send for one job and one instance.
 */
final class DashboardQueries {

    record Query(String panel, String refId, String expr) {
        @Override
        public String toString() {
            return "panel '" + panel + "' " + refId + ": " + expr;
        }
    }

    private DashboardQueries() {
    }

    static Config dashboard(Path json) {
        return ConfigFactory.parseFile(json.toFile(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON).setAllowMissing(false));
    }

    /** Every target of every panel (rows included, should they hold collapsed panels), in order, as written. */
    static List<Query> raw(Config dashboard) {
        List<Query> out = new ArrayList<>();
        for (Config panel : panels(dashboard)) {
            if (panel.hasPath("targets")) {
                for (Config t : panel.getConfigList("targets")) {
                    out.add(new Query(panel.getString("title"), t.getString("refId"), t.getString("expr")));
                }
            }
        }
        return out;
    }

    static List<Config> panels(Config dashboard) {
        List<Config> out = new ArrayList<>();
        for (Config panel : dashboard.getConfigList("panels")) {
            out.add(panel);
            if (panel.hasPath("panels")) {
                out.addAll(panel.getConfigList("panels"));
            }
        }
        return out;
    }

    static List<Query> concrete(Config dashboard, String job, String instance, String rateInterval) {
        return raw(dashboard).stream().map(q -> new Query(q.panel(), q.refId(), q.expr()
                .replace("$__rate_interval", rateInterval)
                .replace("$__interval", "5s")
                .replace("$job", job)
                .replace("$instance", instance))).toList();
    }
}
