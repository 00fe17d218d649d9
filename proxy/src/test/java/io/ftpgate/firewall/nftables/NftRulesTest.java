package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;

import io.ftpgate.firewall.DataLease;
import io.ftpgate.firewall.DataLease.Direction;
import io.ftpgate.firewall.LeaseChange;
import io.ftpgate.firewall.nftables.NftListing.HookChain;
import io.ftpgate.firewall.nftables.NftListing.ListedRule;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Golden text of everything the nftables backend gives nft, as in NftRules' Javadoc and the README. */
class NftRulesTest {

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, true);

    @Test
    void theTableWithGuardedOutput() {
        assertThat(rules.tableDefinition()).isEqualTo("""
                table inet ftpgate {
                \tset in4 {
                \t\ttype ipv4_addr . inet_service . ipv4_addr
                \t\tsize 262144
                \t\tflags timeout
                \t}

                \tset in6 {
                \t\ttype ipv6_addr . inet_service . ipv6_addr
                \t\tsize 262144
                \t\tflags timeout
                \t}

                \tset out4 {
                \t\ttype ipv4_addr . inet_service . ipv4_addr
                \t\tsize 262144
                \t\tflags timeout
                \t}

                \tset out6 {
                \t\ttype ipv6_addr . inet_service . ipv6_addr
                \t\tsize 262144
                \t\tflags timeout
                \t}

                \tchain input {
                \t\ttype filter hook input priority filter - 10; policy accept;
                \t\tmeta mark & 0x00800000 != 0x00000000 meta mark set meta mark & 0xff7fffff comment "ftpgate: only a lease sets this bit"
                \t\tct state new ip saddr . tcp dport . ip daddr @in4 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
                \t\tct state new ip6 saddr . tcp dport . ip6 daddr @in6 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
                \t}

                \tchain output {
                \t\ttype filter hook output priority filter - 10; policy accept;
                \t\tmeta mark & 0x00800000 != 0x00000000 meta mark set meta mark & 0xff7fffff comment "ftpgate: only a lease sets this bit"
                \t\tct state new ip daddr . tcp dport . ip saddr @out4 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
                \t\tct state new ip6 daddr . tcp dport . ip6 saddr @out6 meta mark set meta mark | 0x00800000 comment "ftpgate lease set"
                \t}
                }
                """);
    }

    @Test
    void withoutGuardedOutputOnlyTheInboundSetsAndChain() {
        String table = new NftRules("gw2", 5, 0x10L, false).tableDefinition();
        assertThat(table).startsWith("table inet gw2 {\n\tset in4 {")
                .contains("\tchain input {\n\t\ttype filter hook input priority filter + 5; policy accept;\n"
                        + "\t\tmeta mark & 0x00000010 != 0x00000000 meta mark set meta mark & 0xffffffef")
                .doesNotContain("out4", "out6", "chain output")
                .endsWith("\t}\n}\n");
    }

    @Test
    void startReplacesTheTableAndStopRemovesItEvenIfMissing() {
        assertThat(rules.replaceTable()).startsWith("add table inet ftpgate\ndelete table inet ftpgate\ntable inet ftpgate {\n");
        assertThat(rules.removeTable()).isEqualTo("add table inet ftpgate\ndelete table inet ftpgate\n");
    }

    @Test
    void theRuleInTheAdminsChain() {
        assertThat(rules.insertHookRule(HookChain.parse("inet  filter input"))).isEqualTo(
                "insert rule inet filter input meta mark & 0x00800000 == 0x00800000 accept"
                        + " comment \"ftpgate leases (inserted by ftpgate, table inet ftpgate)\"");
        assertThat(rules.hookRule(rules.adminComment())).isEqualTo(
                "meta mark & 0x00800000 == 0x00800000 accept comment \"ftpgate leases (table inet ftpgate)\"");
        assertThat(NftRules.deleteRule(new ListedRule(HookChain.parse("ip fw in_drop"), 7)))
                .isEqualTo("delete rule ip fw in_drop handle 7");
    }

    @Test
    void channelLinesForEachKindOfLease() throws Exception {
        DataLease in4 = new DataLease(3, Direction.INBOUND, ip("198.51.100.2"), ip("198.51.100.1"), 40001);
        DataLease in6 = new DataLease(4, Direction.INBOUND, ip("2001:db8:1:0:0:0:0:2"), ip("2001:db8:1::1"), 40002);
        DataLease out4 = new DataLease(5, Direction.OUTBOUND, ip("203.0.113.2"), ip("203.0.113.1"), 20);
        assertThat(rules.change(LeaseChange.apply(in4), 15))
                .isEqualTo("add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 15s }");
        assertThat(rules.change(LeaseChange.apply(in6), 15))
                .isEqualTo("add element inet ftpgate in6 { 2001:db8:1::2 . 40002 . 2001:db8:1::1 timeout 15s }");
        assertThat(rules.change(LeaseChange.apply(out4), 15))
                .isEqualTo("add element inet ftpgate out4 { 203.0.113.2 . 20 . 203.0.113.1 timeout 15s }");
        assertThat(rules.change(LeaseChange.revoke(in4), 15)).isEqualTo(
                "add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 1s };"
                        + " delete element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 }");
        assertThat(rules.batch(List.of(LeaseChange.apply(in6), LeaseChange.revoke(in4)), 15)).isEqualTo(
                "add element inet ftpgate in6 { 2001:db8:1::2 . 40002 . 2001:db8:1::1 timeout 15s };"
                        + " add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 1s };"
                        + " delete element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 }");
        // Consecutive changes of one kind: one command per set, elements in order, each once.
        DataLease in4b = new DataLease(6, Direction.INBOUND, ip("198.51.100.3"), ip("198.51.100.1"), 40003);
        assertThat(rules.batch(List.of(LeaseChange.apply(in4), LeaseChange.apply(in6), LeaseChange.apply(in4b),
                LeaseChange.apply(in4), LeaseChange.revoke(in4), LeaseChange.revoke(in4b)), 15)).isEqualTo(
                "add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 15s,"
                        + " 198.51.100.3 . 40003 . 198.51.100.1 timeout 15s };"
                        + " add element inet ftpgate in6 { 2001:db8:1::2 . 40002 . 2001:db8:1::1 timeout 15s };"
                        + " add element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1 timeout 1s,"
                        + " 198.51.100.3 . 40003 . 198.51.100.1 timeout 1s };"
                        + " delete element inet ftpgate in4 { 198.51.100.2 . 40001 . 198.51.100.1, 198.51.100.3 . 40003 . 198.51.100.1 }");
        assertThat(rules.needsEntry(out4)).isTrue();
        assertThat(new NftRules("ftpgate", -10, 1, false).needsEntry(out4)).isFalse();
    }

    @Test
    void theAcknowledgementIsNftsEchoOfTheSentinel() {
        assertThat(rules.sentinel(42)).isEqualTo("list set inet ftpgate ack-42");
        assertThat(NftRules.acknowledged("list set inet ftpgate ack-42")).isEqualTo(42);
        assertThat(NftRules.acknowledged("Error: No such file or directory")).isEqualTo(-1);
        assertThat(NftRules.acknowledged("add element inet ftpgate in4 { 1.2.3.4 . 1 . 1.2.3.4 timeout 15s }")).isEqualTo(-1);
    }

    @Test
    void complaintsAreTiedToTheLineNftEchoes() {
        // What nft -i wrote on stderr for a refused line and the acknowledgement (captured from nft 1.0.6).
        List<String> stderr = List.of(
                "                      ^^^^^",
                "Error: Could not process rule: No such file or directory",
                "add element inet ftpgate nope { 1.2.3.4 . 1 . 2.3.4.5 }",
                "                         ^^^^",
                "Error: No such file or directory");
        assertThat(NftRules.complaints(stderr)).isEqualTo(Map.of(
                "add element inet ftpgate nope { 1.2.3.4 . 1 . 2.3.4.5 }",
                "Error: Could not process rule: No such file or directory"));
        assertThat(NftRules.complaints(List.of("Error: No such file or directory"))).isEmpty();
        assertThat(NftRules.complaints(List.of("something odd", "Error: No such file or directory")))
                .isEqualTo(Map.of("", "something odd"));
    }

    @Test
    void theReadmeShowsExactlyTheDefaultObjects() throws Exception {
        NftRules defaults = new NftRules("ftpgate", -10, 0x00800000L, false);
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
        assertThat(readme).contains("```\n" + defaults.tableDefinition() + "```\n",
                "```\n" + defaults.insertHookRule(HookChain.parse("inet filter input")) + "\n```\n",
                "```\n" + defaults.hookRule(defaults.adminComment()) + "\n```\n");
    }

    @Test
    void priorityText() {
        assertThat(NftRules.priorityText(0)).isEqualTo("filter");
        assertThat(NftRules.priorityText(-10)).isEqualTo("filter - 10");
        assertThat(NftRules.priorityText(3)).isEqualTo("filter + 3");
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }
}
