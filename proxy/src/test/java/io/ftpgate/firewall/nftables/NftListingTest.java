package io.ftpgate.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ftpgate.firewall.nftables.NftListing.BaseChain;
import io.ftpgate.firewall.nftables.NftListing.HookChain;
import io.ftpgate.firewall.nftables.NftListing.ListedRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The parsers of nft's listings, with listings as nft 1.0.6 prints them. */
class NftListingTest {

    private final NftRules rules = new NftRules("ftpgate", -10, 0x00800000L, true);

    @Test
    void hookChains() {
        assertThat(HookChain.parse("inet  filter input")).isEqualTo(new HookChain("inet", "filter", "input"));
        assertThat(HookChain.parse("ip fw in_drop").toString()).isEqualTo("ip fw in_drop");
        assertThatThrownBy(() -> HookChain.parse("bridge filter input")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HookChain.parse("inet filter")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRulesetListingGivesBaseChainsAndManagedRulesOnly() {
        String listing = """
                table inet filter { # handle 2
                \tset blocked { # handle 4
                \t\ttype ipv4_addr
                \t\tcomment "ftpgate leases (inserted by ftpgate, table inet ftpgate)"
                \t}

                \tchain input { # handle 1
                \t\ttype filter hook input priority filter; policy drop;
                \t\tmeta mark & 0x00800000 == 0x00800000 accept comment "ftpgate leases (inserted by ftpgate, table inet ftpgate)" # handle 9
                \t\tmeta mark & 0x00800000 == 0x00800000 accept comment "ftpgate leases (table inet ftpgate)" # handle 8
                \t\tct state established,related accept # handle 3
                \t}

                \tchain helper { # handle 5
                \t\ttcp dport 21 accept # handle 6
                \t}
                }
                table ip legacy { # handle 7
                \tchain out { # handle 1
                \t\ttype filter hook output priority mangle + 5; policy accept;
                \t}
                }
                table inet ftpgate { # handle 3
                \tchain input { # handle 1
                \t\ttype filter hook input priority filter - 10; policy accept;
                \t}
                }
                """;
        NftListing.Ruleset ruleset = rules.ruleset(listing);
        assertThat(ruleset.hasTable()).isTrue();
        assertThat(ruleset.managedRules()).containsExactly(new ListedRule(HookChain.parse("inet filter input"), 9));
        assertThat(ruleset.baseChains()).containsExactly(
                new BaseChain(HookChain.parse("inet filter input"), "input", 0),
                new BaseChain(HookChain.parse("ip legacy out"), "output", -145),
                new BaseChain(HookChain.parse("inet ftpgate input"), "input", -10));
        assertThat(ruleset.baseChain(HookChain.parse("inet filter helper"))).isEmpty();
        assertThat(rules.ruleset("table inet filter { # handle 2\n}\n").hasTable()).isFalse();
    }

    @Test
    void elementsAreCountedInATableListing() {
        assertThat(NftListing.elements("""
                table inet ftpgate {
                \tset in4 {
                \t\ttype ipv4_addr . inet_service . ipv4_addr
                \t\tflags timeout
                \t\telements = { 198.51.100.2 . 40001 . 198.51.100.1 timeout 15s expires 9s, 198.51.100.3 . 40002 . 198.51.100.1 timeout 15s expires 3s,
                \t\t\t     198.51.100.4 . 40003 . 198.51.100.1 timeout 15s expires 1s }
                \t}
                \tset in6 {
                \t\ttype ipv6_addr . inet_service . ipv6_addr
                \t\telements = { 2001:db8:1::2 . 40004 . 2001:db8:1::1 timeout 15s expires 14s }
                \t}
                \tchain input {
                \t\tct state new ip saddr . tcp dport . ip daddr @in4 meta mark set meta mark | 0x00800000
                \t}
                }
                """)).isEqualTo(4);
    }

    @ParameterizedTest
    @CsvSource({"filter,0", "filter - 10,-10", "filter + 10,10", "mangle,-150", "raw + 1,-299", "-5,-5", "0,0", "security,50"})
    void prioritiesAsNftListsThem(String text, int value) {
        assertThat(NftListing.priorityValue(text)).isEqualTo(value);
    }
}
