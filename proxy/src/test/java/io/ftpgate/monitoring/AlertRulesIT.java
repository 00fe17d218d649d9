package io.ftpgate.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.testing.RootTools;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The alerting rules as promtool sees them: valid, and their unit tests (firing and not firing) pass. */
@Tag("netns")
class AlertRulesIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private Path grafana;

    @BeforeEach
    void requirePromtool() {
        RootTools.requireRootAndTools("promtool", "prometheus", "curl");
        grafana = ToolRun.grafanaDir();
    }

    @Test
    void rulesAreValid() throws Exception {
        ToolRun check = ToolRun.run(TIMEOUT, grafana, "promtool", "check", "rules", "ftpgate-alerts.yml");
        assertThat(check.exitCode()).as("%s", check).isZero();
        assertThat(check.output()).as("%s", check).contains("SUCCESS").doesNotContain("WARNING");
    }

    @Test
    void ruleUnitTestsPass() throws Exception {
        ToolRun test = ToolRun.run(TIMEOUT, grafana, "promtool", "test", "rules", "ftpgate-alerts.test.yml");
        assertThat(test.exitCode()).as("%s", test).isZero();
        assertThat(test.output()).as("%s", test).contains("SUCCESS").doesNotContain("FAILED");
    }
}
