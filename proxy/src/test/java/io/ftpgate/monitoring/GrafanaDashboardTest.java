package io.ftpgate.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's shape, without Grafana: importable (inputs, datasource variable, fixed uid),
 * every panel on the selected data source, job and instance, and a layout without overlaps.
 * {@link PrometheusScrapeIT} runs its queries.
 */
class GrafanaDashboardTest {
    private final Config dashboard = DashboardQueries.dashboard(ToolRun.grafanaDir().resolve("ftpgate-dashboard.json"));

    @Test
    void importableWithAPrometheusInputAndFixedUid() {
        assertThat(dashboard.getString("uid")).isEqualTo("ftpgate");
        assertThat(dashboard.getInt("schemaVersion")).isGreaterThanOrEqualTo(36);
        Config input = dashboard.getConfigList("__inputs").get(0);
        assertThat(input.getString("name")).isEqualTo("DS_PROMETHEUS");
        assertThat(input.getString("pluginId")).isEqualTo("prometheus");
        List<? extends Config> vars = dashboard.getConfigList("templating.list");
        assertThat(vars).extracting(v -> v.getString("name")).containsExactly("datasource", "job", "instance");
        assertThat(vars.get(0).getString("type")).isEqualTo("datasource");
        assertThat(vars.get(0).getString("query")).isEqualTo("prometheus");
        assertThat(vars.get(0).getString("current.value")).isEqualTo("${DS_PROMETHEUS}");
        assertThat(vars.get(1).getString("definition")).isEqualTo("label_values(ftpgate_build_info, job)");
        assertThat(vars.get(2).getString("definition")).isEqualTo("label_values(ftpgate_build_info{job=~\"$job\"}, instance)");
    }

    @Test
    void rowsInOrder() {
        List<String> rows = DashboardQueries.panels(dashboard).stream().filter(p -> p.getString("type").equals("row"))
                .map(p -> p.getString("title")).toList();
        assertThat(rows).containsExactly("Overview", "Traffic", "Sessions", "Data connections & leases",
                "Errors & refusals", "Firewall", "TLS", "JVM");
    }

    @Test
    void everyPanelQueriesTheSelectedDataSourceJobAndInstance() {
        for (Config panel : DashboardQueries.panels(dashboard)) {
            if (panel.getString("type").equals("row")) {
                continue;
            }
            assertThat(panel.getString("datasource.uid")).as(panel.getString("title")).isEqualTo("${datasource}");
            assertThat(panel.getConfigList("targets")).as(panel.getString("title")).isNotEmpty().allSatisfy(t -> {
                assertThat(t.getString("datasource.uid")).isEqualTo("${datasource}");
                assertThat(t.getString("expr")).contains("job=~\"$job\"", "instance=~\"$instance\"");
            });
        }
    }

    @Test
    void uniqueIdsAndNoOverlappingPanels() {
        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (Config panel : DashboardQueries.panels(dashboard)) {
            assertThat(ids.add(panel.getInt("id"))).as("id %s", panel.getInt("id")).isTrue();
            Config g = panel.getConfig("gridPos");
            int[] box = {g.getInt("x"), g.getInt("y"), g.getInt("w"), g.getInt("h")};
            assertThat(box[0] + box[2]).as(panel.getString("title")).isLessThanOrEqualTo(24);
            for (int[] other : boxes) {
                boolean apart = box[0] + box[2] <= other[0] || other[0] + other[2] <= box[0]
                        || box[1] + box[3] <= other[1] || other[1] + other[3] <= box[1];
                assertThat(apart).as("%s overlaps another panel", panel.getString("title")).isTrue();
            }
            boxes.add(box);
        }
    }
}
