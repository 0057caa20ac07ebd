/* Oracle test: frames built from the text form are written to a pcap file
 * (libpcap's pcap_dump) and decoded by tshark. Every field value tshark reports
 * must equal what our dissector reads, and tshark's checksum validation must
 * agree with ours (px_layer_checksum): good everywhere, bad exactly where a
 * sample broke a checksum on purpose.
 *
 * Needs tshark (Debian package tshark). Without it the test fails when CI is set
 * and skips (exit 77) otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "pktexpect/error.h"
#include "pktexpect/text.h"
#include "px_test.h"

typedef struct sample {
    const char *text;
    const char *bad; /* checksum status field tshark must find bad, or NULL */
} sample;

static const sample CORPUS[] = {
    {"Ether(dst=ff:ff:ff:ff:ff:ff,src=02:00:00:00:00:01)/Dot1Q(vlan=102,pcp=3)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=64)/"
     "UDP(sport=1234,dport=53)/Raw(\"hello\")", NULL},
    {"Ether/IPv4/UDP(sport=1,dport=2)", NULL},
    {"Ether/IPv4(ttl=1,id=77,dscp=46,ecn=2)/UDP(sport=5000,dport=5001)/Raw(hex=00112233)", NULL},
    {"Ether/IPv4(src=192.0.2.1,dst=198.51.100.7,flags=2)/TCP(sport=40000,dport=80,flags=S,seq=1000)", NULL},
    {"Ether/IPv4/TCP(flags=SA,seq=5,ack=1001,window=1024,options=020405b4)", NULL},
    {"Ether/IPv4/TCP(flags=PA,seq=7,ack=8)/Raw(\"GET / HTTP/1.0\")", NULL},
    {"Ether/IPv4/TCP(flags=FA)", NULL},
    {"Ether/IPv4/TCP(flags=R)", NULL},
    {"Ether/IPv4(options=01010101)/UDP(sport=7,dport=9)/Raw(\"opt\")", NULL},
    {"Ether/IPv4/ICMP(type=8,id=1,seq=1)/Raw(\"ping\")", NULL},
    {"Ether/IPv4/ICMP(type=0,id=1,seq=2)/Raw(\"pong\")", NULL},
    {"Ether/IPv4/ICMP(type=13)/Raw(hex=000000000000000000000000)", NULL},
    {"Ether/Dot1Q(vlan=1)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/Dot1Q(vlan=4095,pcp=7,dei=1)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/Dot1Q(vlan=0,pcp=5)/IPv6/UDP(sport=10,dport=20)", NULL},
    {"Ether/Dot1AD(vlan=100,pcp=3,dei=1)/Dot1Q(vlan=200)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/Dot1AD(vlan=10)/Dot1Q(vlan=20)/Dot1Q(vlan=30)/IPv4/TCP", NULL},
    {"Ether/ARP(op=1,hwsrc=02:00:00:00:00:01,psrc=10.0.0.1,pdst=10.0.0.2)", NULL},
    {"Ether/ARP(op=2,hwsrc=02:00:00:00:00:02,psrc=10.0.0.2,hwdst=02:00:00:00:00:01,pdst=10.0.0.1)/Pad(min=60)", NULL},
    {"Ether/Dot1Q(vlan=3)/ARP(op=1,psrc=10.1.0.1,pdst=10.1.0.2)", NULL},
    {"Ether/IPv6(src=2001:db8::1,dst=2001:db8::2)/UDP(sport=546,dport=547)/Raw(\"v6\")", NULL},
    {"Ether/IPv6(hlim=1,dscp=10,ecn=1,fl=12345)/TCP(sport=1,dport=22,flags=S)", NULL},
    {"Ether/IPv6(src=fe80::1,dst=ff02::1)/ICMPv6(type=128,id=3,seq=4)/Raw(\"echo\")", NULL},
    {"Ether/IPv6(src=fe80::1,dst=ff02::1:ff00:2)/ICMPv6(type=135)/Raw(hex=00000000fe800000000000000000000000000002)", NULL},
    {"Ether/IPv6(src=fe80::1,dst=ff02::2)/ICMPv6(type=133)", NULL},
    {"Ether/IPv6/IPv6HopByHop/UDP(sport=3,dport=4)", NULL},
    {"Ether/IPv6/IPv6DestOpts/TCP(sport=3,dport=4)", NULL},
    {"Ether/IPv6/IPv6HopByHop/IPv6DestOpts/UDP(sport=3,dport=4)/Raw(\"x\")", NULL},
    {"Ether/IPv6/IPv6Routing(type=0,segleft=0,data=00000000)/UDP(sport=3,dport=4)", NULL},
    {"Ether/IPv6/IPv6Frag(offset=100,id=7)/Raw(hex=0102030405060708)", NULL},
    /* segments left > 0: the pseudo-header takes the final destination (RFC 8200 8.1) */
    {"Ether()/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(segleft=1,data=0000000020010db8000000000000000000000099)/"
     "UDP(sport=1000,dport=53)/Raw(\"x\")", NULL},
    {"Ether/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(type=0,segleft=2,data=00000000"
     "20010db8000000000000000000000098" "20010db8000000000000000000000099)/TCP(sport=1,dport=2,flags=S)", NULL},
    {"Ether/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(segleft=1,data=0000000020010db8000000000000000000000099)/"
     "ICMPv6(type=128,id=1,seq=1)/Raw(\"ping\")", NULL},
    {"Ether/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(type=4,segleft=1,data=0000000020010db8000000000000000000000077)/"
     "UDP(sport=1000,dport=53)/Raw(\"srh\")", NULL},
    {"Ether/IPv6(src=2001:db8::1,dst=2001:db8::2)/IPv6Routing(segleft=1,data=0000000020010db8000000000000000000000099)/"
     "UDP(sport=1000,dport=53,chksum=0x284a)/Raw(\"x\")", "udp.checksum.status"},
    {"Ether/IPv4(frag=100,proto=17)/Raw(hex=0102030405060708)", NULL},
    {"Ether/MPLS(label=100)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/MPLS(label=100,tc=5,ttl=10)/MPLS(label=200)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/MPLS(label=1048575)/IPv6/UDP(sport=10,dport=20)", NULL},
    {"Ether/Dot1Q(vlan=9)/MPLS(label=16)/MPLS(label=17)/MPLS(label=18)/IPv4/ICMP", NULL},
    /* IP over MPLS with Ethernet padding after the datagram */
    {"Ether/MPLS(label=100)/IPv4/UDP(sport=10,dport=20)/Raw(\"x\")/Pad(min=60)", NULL},
    {"Ether/MPLS(label=100)/IPv6/UDP(sport=10,dport=20)/Pad(hex=00000000)", NULL},
    {"Ether/MPLS(label=100)/IPv4/TCP(sport=10,dport=20)/Pad(hex=0000000000000000)", NULL},
    {"Ether/IPv4/GRE/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv4/GRE(key=42)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv4/GRE(key=1,seq=9)/IPv6/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv4/GRE(c=1)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv4/GRE(c=1,key=7,seq=8)/Ether(src=02:00:00:00:00:09)/IPv4/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv6/GRE(key=5)/Ether/ARP(psrc=10.9.0.1,pdst=10.9.0.2)", NULL},
    {"Ether/IPv4/UDP/VXLAN(vni=42)/Ether(src=02:00:00:00:00:0a)/IPv4(ttl=5)/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv4/UDP/VXLAN(vni=16777215)/Ether/Dot1Q(vlan=7)/IPv4/TCP", NULL},
    {"Ether/IPv6/UDP/VXLAN(vni=1)/Ether/IPv6/ICMPv6(type=128)", NULL},
    {"Ether/Dot1Q(vlan=50)/IPv4/UDP/VXLAN(vni=500)/Ether/ARP", NULL},
    {"Ether(dst=01:80:c2:00:00:00)/LLC/Raw(hex=000000000000)", NULL},
    {"Ether/LLC(dsap=0xaa,ssap=0xaa)/Raw(hex=000000080045)", NULL},
    {"Ether/IPv4/IPv4(src=10.2.0.1)/UDP(sport=10,dport=20)", NULL},
    {"Ether/IPv4/IPv6/TCP(sport=10,dport=20)", NULL},
    {"Ether/IPv6/IPv4/ICMP", NULL},
    {"Ether/IPv4/UDP(sport=10,dport=20)/Pad(min=60)", NULL},
    {"Ether/IPv4(chksum=0x1234)/UDP(sport=10,dport=20)", "ip.checksum.status"},
    {"Ether/IPv4/UDP(sport=10,dport=20,chksum=0x1234)/Raw(\"x\")", "udp.checksum.status"},
    {"Ether/IPv4/TCP(chksum=0x0001)", "tcp.checksum.status"},
    {"Ether/IPv6/TCP(chksum=0x0001)", "tcp.checksum.status"},
    {"Ether/IPv4/ICMP(chksum=0x0001)", "icmp.checksum.status"},
    {"Ether/IPv6/ICMPv6(type=128,chksum=0x0001)", "icmpv6.checksum.status"},
    {"Ether/IPv6/UDP(sport=10,dport=20,chksum=0x0001)", "udp.checksum.status"},
    {"Ether/IPv4/GRE(c=1,chksum=0x0001)/IPv4/UDP(sport=10,dport=20)", "gre.checksum.status"},
};
#define NCORPUS (sizeof CORPUS / sizeof CORPUS[0])

/* The fields compared; values are lists (one per occurrence) joined by ','. */
static const char *FIELDS[] = {
    "eth.dst", "eth.src", "vlan.id", "vlan.priority", "vlan.dei", "arp.opcode", "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4", "ip.src", "ip.dst", "ip.ttl", "ip.proto", "ip.id", "ip.dsfield.dscp", "ip.len",
    "ipv6.src", "ipv6.dst", "ipv6.hlim", "ipv6.plen", "ipv6.flow", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
    "tcp.flags", "tcp.window_size_value", "tcp.hdr_len", "udp.srcport", "udp.dstport", "udp.length", "icmp.type",
    "icmp.code", "icmpv6.type", "icmpv6.code", "mpls.label", "mpls.exp", "mpls.bottom", "mpls.ttl", "gre.key",
    "gre.proto", "vxlan.vni", "llc.dsap", "llc.ssap", "ieee8021ad.id", "ieee8021ad.priority", "ieee8021ad.dei",
    /* checksum validation: 1 good, 0 bad */
    "ip.checksum.status", "udp.checksum.status", "tcp.checksum.status", "icmp.checksum.status",
    "icmpv6.checksum.status", "gre.checksum.status",
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])
#define FIRST_STATUS 45

static size_t field_index(const char *name)
{
    for (size_t k = 0; k < NFIELDS; k++)
        if (strcmp(FIELDS[k], name) == 0)
            return k;
    fail_msg("no field %s", name);
    return 0;
}

typedef struct list {
    char s[512];
} list;

static void add(list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(list *l, const char *fmt, ...)
{
    size_t n = strlen(l->s);
    if (n && n < sizeof l->s - 1)
        l->s[n++] = ',';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->s + n, sizeof l->s - n, fmt, ap);
    va_end(ap);
}

/* "1" when our checker finds the checksum of `l` good, "0" when bad. */
static const char *csum(const px_frame *f, const px_layer *l)
{
    px_csum_status s = px_layer_checksum(f, l);
    return s == PX_CSUM_GOOD ? "1" : s == PX_CSUM_BAD ? "0" : "?";
}

/* Our values for FIELDS[], from the dissector's accessors and checksum checker. */
static void ours(const px_frame *f, list out[NFIELDS])
{
    memset(out, 0, NFIELDS * sizeof out[0]);
    char a[46];
    for (unsigned i = 0; i < f->nlayers; i++) {
        const px_layer *l = &f->layers[i];
        switch ((px_layer_kind)l->kind) {
        case PX_LAYER_ETH: {
            px_eth_hdr e;
            px_layer_eth(f, l, &e);
            px_format_mac(e.dst, a);
            add(&out[0], "%s", a);
            px_format_mac(e.src, a);
            add(&out[1], "%s", a);
            break;
        }
        case PX_LAYER_VLAN: {
            px_vlan_tag t;
            px_layer_vlan(f, l, &t, NULL);
            /* tshark names 802.1ad service tags apart from 802.1Q tags */
            int k = t.tpid == 0x88a8 ? 42 : 2;
            add(&out[k], "%u", t.vid);
            add(&out[k + 1], "%u", t.pcp);
            add(&out[k + 2], "%u", t.dei);
            break;
        }
        case PX_LAYER_ARP: {
            px_arp_hdr r;
            px_layer_arp(f, l, &r);
            add(&out[5], "%u", r.op);
            px_format_ipv4(r.spa, a);
            add(&out[6], "%s", a);
            px_format_ipv4(r.tpa, a);
            add(&out[7], "%s", a);
            break;
        }
        case PX_LAYER_IPV4: {
            px_ipv4_hdr ip;
            px_layer_ipv4(f, l, &ip);
            px_format_ipv4(ip.src, a);
            add(&out[8], "%s", a);
            px_format_ipv4(ip.dst, a);
            add(&out[9], "%s", a);
            add(&out[10], "%u", ip.ttl);
            add(&out[11], "%u", ip.proto);
            add(&out[12], "%u", ip.id);
            add(&out[13], "%u", ip.dscp);
            add(&out[14], "%u", ip.tot_len);
            add(&out[FIRST_STATUS], "%s", csum(f, l));
            break;
        }
        case PX_LAYER_IPV6: {
            px_ipv6_hdr v;
            px_layer_ipv6(f, l, &v);
            px_format_ipv6(v.src, a);
            add(&out[15], "%s", a);
            px_format_ipv6(v.dst, a);
            add(&out[16], "%s", a);
            add(&out[17], "%u", v.hop_limit);
            add(&out[18], "%u", v.payload_len);
            add(&out[19], "%u", v.flow);
            break;
        }
        case PX_LAYER_TCP: {
            px_tcp_hdr t;
            px_layer_tcp(f, l, &t);
            add(&out[20], "%u", t.sport);
            add(&out[21], "%u", t.dport);
            add(&out[22], "%u", t.seq);
            add(&out[23], "%u", t.flags);
            add(&out[24], "%u", t.window);
            add(&out[25], "%u", t.doff * 4u);
            add(&out[FIRST_STATUS + 2], "%s", csum(f, l));
            break;
        }
        case PX_LAYER_UDP: {
            px_udp_hdr u;
            px_layer_udp(f, l, &u);
            add(&out[26], "%u", u.sport);
            add(&out[27], "%u", u.dport);
            add(&out[28], "%u", u.len);
            add(&out[FIRST_STATUS + 1], "%s", csum(f, l));
            break;
        }
        case PX_LAYER_ICMP:
        case PX_LAYER_ICMPV6: {
            px_icmp_hdr c;
            px_layer_icmp(f, l, &c);
            bool v4 = l->kind == PX_LAYER_ICMP;
            add(&out[v4 ? 29 : 31], "%u", c.type);
            add(&out[v4 ? 30 : 32], "%u", c.code);
            add(&out[FIRST_STATUS + (v4 ? 3 : 4)], "%s", csum(f, l));
            break;
        }
        case PX_LAYER_MPLS: {
            px_mpls_hdr m;
            px_layer_mpls(f, l, &m);
            add(&out[33], "%u", m.label);
            add(&out[34], "%u", m.tc);
            add(&out[35], "%u", m.s);
            add(&out[36], "%u", m.ttl);
            break;
        }
        case PX_LAYER_GRE: {
            px_gre_hdr g;
            px_layer_gre(f, l, &g);
            if (g.has_key)
                add(&out[37], "%u", g.key);
            add(&out[38], "%u", g.proto);
            if (g.has_chksum)
                add(&out[FIRST_STATUS + 5], "%s", csum(f, l));
            break;
        }
        case PX_LAYER_VXLAN: {
            px_vxlan_hdr x;
            px_layer_vxlan(f, l, &x);
            add(&out[39], "%u", x.vni);
            break;
        }
        case PX_LAYER_LLC: {
            px_llc_hdr c;
            px_layer_llc(f, l, &c);
            add(&out[40], "%u", c.dsap);
            add(&out[41], "%u", c.ssap);
            break;
        }
        default: break;
        }
    }
}

/* Compares two ','-separated lists; numbers (decimal or 0x hex) by value. */
static bool same_list(const char *x, const char *y)
{
    char bx[512], by[512];
    snprintf(bx, sizeof bx, "%s", x);
    snprintf(by, sizeof by, "%s", y);
    char *sx, *sy;
    char *tx = strtok_r(bx, ",", &sx), *ty = strtok_r(by, ",", &sy);
    while (tx && ty) {
        char *ex, *ey;
        unsigned long long vx = strtoull(tx, &ex, 0), vy = strtoull(ty, &ey, 0);
        bool numeric = *tx && *ty && *ex == '\0' && *ey == '\0' && !strchr(tx, ':') && !strchr(ty, ':');
        if (numeric ? vx != vy : strcmp(tx, ty) != 0)
            return false;
        tx = strtok_r(NULL, ",", &sx);
        ty = strtok_r(NULL, ",", &sy);
    }
    return !tx && !ty;
}

static char tmpdir[256];

static void test_tshark_agrees(void **state)
{
    (void)state;
    assert_true(NCORPUS >= 50);
    char pcap_path[300];
    snprintf(pcap_path, sizeof pcap_path, "%s/frames.pcap", tmpdir);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, pcap_path);
    assert_non_null(d);
    static uint8_t *bytes[NCORPUS];
    static size_t lens[NCORPUS];
    for (size_t i = 0; i < NCORPUS; i++) {
        char err[PX_ERRBUF_SIZE];
        if (px_frame_parse_text(CORPUS[i].text, &bytes[i], &lens[i], err) != 0)
            fail_msg("%s: %s", CORPUS[i].text, err);
        struct pcap_pkthdr h = {.ts = {(time_t)i, 0}, .caplen = (bpf_u_int32)lens[i], .len = (bpf_u_int32)lens[i]};
        pcap_dump((u_char *)d, &h, bytes[i]);
    }
    pcap_dump_close(d);
    pcap_close(dead);

    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd,
                     "tshark -n -r '%s' -T fields -E separator='|' -E occurrence=a -E aggregator=, "
                     "-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE "
                     "-o ip.defragment:FALSE -o ipv6.defragment:FALSE -o tcp.relative_sequence_numbers:FALSE",
                     pcap_path);
    for (size_t k = 0; k < NFIELDS; k++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " -e %s", FIELDS[k]);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " 2>'%s/tshark.err'", tmpdir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[8192];
    size_t row = 0;
    unsigned mismatches = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        assert_true(row < NCORPUS);
        px_frame f;
        px_frame_dissect(&f, bytes[row], (uint32_t)lens[row], (uint32_t)lens[row]);
        list mine[NFIELDS];
        ours(&f, mine);
        /* the samples broken on purpose are bad for us too, the others good */
        bool any_bad = false;
        for (size_t k = FIRST_STATUS; k < NFIELDS; k++)
            any_bad |= strstr(mine[k].s, "0") != NULL;
        if (any_bad != (CORPUS[row].bad != NULL) ||
            (CORPUS[row].bad && !strstr(mine[field_index(CORPUS[row].bad)].s, "0"))) {
            print_error("frame %zu %s: checksum verdicts unexpected\n", row + 1, CORPUS[row].text);
            mismatches++;
        }
        char *cell = line;
        for (size_t k = 0; k < NFIELDS; k++) {
            char *bar = strchr(cell, '|');
            if (bar)
                *bar = '\0';
            if (!same_list(cell, mine[k].s)) {
                print_error("frame %zu %s\n  %s: tshark '%s', pktexpect '%s'\n", row + 1, CORPUS[row].text, FIELDS[k], cell,
                            mine[k].s);
                mismatches++;
            }
            cell = bar ? bar + 1 : cell + strlen(cell);
        }
        row++;
    }
    int status = pclose(p);
    if (row != NCORPUS) {
        snprintf(line, sizeof line, "cat '%s/tshark.err' >&2", tmpdir);
        (void)system(line);
        fail_msg("tshark printed %zu rows for %zu frames (exit status %d)", row, NCORPUS, status);
    }
    for (size_t i = 0; i < NCORPUS; i++)
        free(bytes[i]);
    assert_int_equal(mismatches, 0);
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pxoracle.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[320];
    snprintf(path, sizeof path, "%s/frames.pcap", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/tshark.err", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    if (system("tshark -v >/dev/null 2>&1") != 0) {
        px_test_unavailable("tshark is missing and CI is set: install it (scripts/deps.sh test)",
                            "tshark is missing; install the tshark package (scripts/deps.sh test)");
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tshark_agrees)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
