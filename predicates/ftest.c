/* pktexpect: the stream behaviour shared by every per-frame predicate.
 *
 * A per-frame predicate is a test of one frame (px__ftest_vt) plus one of two
 * behaviours:
 *  - positive ("saw_..."): stops on the first frame that passes the test; PASS
 *    if one did, FAIL otherwise, showing the closest frame (fewest misses) and
 *    its differences;
 *  - negative ("did_not_see_..."): stops on the first frame that passes the test
 *    with FAIL (showing it); PASS when the window closed (or the count limit
 *    ended it) without one. Loss-sensitive.
 *
 * Dispatch keys: a test may declare an exact key (px__ftest_vt.key); the ops'
 * key slot reports it, and the harness then offers only frames that carry it.
 * Explanations say so ("saw 0 frames with udp dport 53"); frame numbers count
 * the frames offered. When the harness offers every frame anyway (count limit,
 * BPF filter, or a test driving it directly) the frames with the key are counted
 * apart, so the text stays true ("saw 5 frames (0 with udp dport 53)").
 *
 * Hot path: on_packet runs the test without an explanation buffer (no
 * formatting, no allocation); it formats only the first matching frame and each
 * new closest frame, i.e. at most (number of conditions + 2) times per window.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pred_internal.h"
#include "pktexpect/print.h"
#include "pktexpect/text.h"


static void ftest_on_packet(void *state, const px_frame *f)
{
    px__ftest *st = state;
    if (st->hit_index)
        return;
    st->seen++;
    unsigned miss = st->vt->test(st, f, NULL);
    /* A matching frame carries an exact key; test the others. */
    if (st->has_key && (miss == 0 || px__frame_has_key(f, st->key)))
        st->seen_key++;
    if (miss == 0) {
        st->hit_index = st->seen;
        px__frame_summary(f, &st->hit_summary);
        return;
    }
    if (st->best_index == 0 || miss < st->best_miss) {
        st->best_miss = miss;
        st->best_index = st->seen;
        px_buf_clear(&st->best_why);
        st->vt->test(st, f, &st->best_why);
        px_buf_append(&st->best_why, " (frame: ");
        px__frame_summary(f, &st->best_why);
        px_buf_append(&st->best_why, ")");
    }
}

static bool ftest_stop(void *state, const px_frame *f)
{
    (void)f;
    const px__ftest *st = state;
    return st->hit_index != 0;
}

static void ftest_describe(const void *state, px_buf *out)
{
    const px__ftest *st = state;
    px_buf_append(out, st->name);
    px_buf_append(out, "(");
    st->vt->describe_args(st, out);
    px_buf_append(out, ")");
}

/* What the test looks for, in words after "a frame" / "no frame": "from src MAC
 * 02:00:00:00:00:01", "with UDP dport=53". A message then names the predicate
 * once (the report's headline) instead of repeating its call ("expected no frame
 * matching did_not_see_src_mac(...)"). A test without words here (a custom one)
 * falls back to "matching <call>". */
static void ftest_words(const px__ftest *st, px_buf *out)
{
    static const struct {
        const char *suffix, *words;
    } phrases[] = {
        {"ethertype", "with ethertype "}, {"src_mac", "from src MAC "}, {"dst_mac", "to dst MAC "},
        {"vlan_tag", "with VLAN tag "},   {"ipv4", "with IPv4 "},       {"ipv6", "with IPv6 "},
        {"tcp", "with TCP "},             {"udp", "with UDP "},         {"icmpv6", "with ICMPv6 "},
        {"icmp", "with ICMP "},           {"mpls", "with MPLS "},       {"vxlan", "with VXLAN "},
        {"payload", "whose payload contains "},
        {"payload_contains", "whose payload contains "},
        {"matches", "like "},
        {"bpf", "accepted by the filter "},
    };
    const char *suffix = st->name;
    if (!strncmp(suffix, "did_not_see_", 12))
        suffix += 12;
    else if (!strncmp(suffix, "saw_", 4))
        suffix += 4;
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++) {
        if (strcmp(suffix, phrases[i].suffix))
            continue;
        px_buf args = PX_BUF_INIT;
        st->vt->describe_args(st, &args);
        size_t n = strlen(phrases[i].words);
        if (!args.len) /* no arguments: "with UDP" */
            n -= 1;
        px_buf_append_n(out, phrases[i].words, n);
        px_buf_append(out, px_buf_cstr(&args));
        px_buf_free(&args);
        return;
    }
    px_buf_append(out, "matching ");
    ftest_describe(st, out);
}

/* "3 frames", "3 frames with udp dport 53" (all offered frames carried the key,
 * as when the harness dispatches by key) or "3 frames (1 with udp dport 53)". */
static void explain_seen(const px__ftest *st, px_result *out)
{
    px_result_explain(out, "%llu frame%s", (unsigned long long)st->seen, st->seen == 1 ? "" : "s");
    if (!st->has_key)
        return;
    if (st->seen_key == st->seen) {
        px_result_explain(out, " with ");
        px__key_format(&st->key, &out->explanation);
        return;
    }
    px_result_explain(out, " (%llu with ", (unsigned long long)st->seen_key);
    px__key_format(&st->key, &out->explanation);
    px_result_explain(out, ")");
}

static px_verdict ftest_finish_pos(void *state, bool timed_out, px_result *out)
{
    px__ftest *st = state;
    (void)timed_out;
    if (st->hit_index) {
        px_result_explain(out, "frame #%llu matched: %s", (unsigned long long)st->hit_index,
                          px_buf_cstr(&st->hit_summary));
        return PX_PASS;
    }
    px_result_explain(out, "expected a frame ");
    ftest_words(st, &out->explanation);
    px_result_explain(out, "; saw ");
    explain_seen(st, out);
    px_result_explain(out, ", none matched");
    if (st->best_index)
        px_result_explain(out, "; closest was frame #%llu: %s", (unsigned long long)st->best_index,
                          px_buf_cstr(&st->best_why));
    return PX_FAIL;
}

static px_verdict ftest_finish_neg(void *state, bool timed_out, px_result *out)
{
    px__ftest *st = state;
    (void)timed_out;
    if (st->hit_index) {
        px_result_explain(out, "expected no frame ");
        ftest_words(st, &out->explanation);
        px_result_explain(out, "; frame #%llu matched: %s", (unsigned long long)st->hit_index,
                          px_buf_cstr(&st->hit_summary));
        return PX_FAIL;
    }
    px_result_explain(out, "none of the ");
    explain_seen(st, out);
    px_result_explain(out, " matched");
    return PX_PASS;
}

static void ftest_destroy(void *state)
{
    px__ftest *st = state;
    if (!st)
        return;
    if (st->vt->cleanup)
        st->vt->cleanup(st);
    px_buf_free(&st->hit_summary);
    px_buf_free(&st->best_why);
    free(st);
}

/* The key decided by px__ftest_wrap (the arguments do not change afterwards). */
static bool ftest_key(const void *state, px_key *out)
{
    const px__ftest *st = state;
    if (!st->has_key)
        return false;
    *out = st->key;
    return true;
}

/* The two behaviours; the name in messages comes from describe (the state's name). */
static const px_predicate_ops ftest_pos_ops = {
    .name = "saw",
    .on_packet = ftest_on_packet,
    .stop_condition = ftest_stop,
    .on_finish = ftest_finish_pos,
    .describe = ftest_describe,
    .destroy = ftest_destroy,
    .key = ftest_key,
};

static const px_predicate_ops ftest_neg_ops = {
    .name = "did_not_see",
    .on_packet = ftest_on_packet,
    .stop_condition = ftest_stop,
    .on_finish = ftest_finish_neg,
    .describe = ftest_describe,
    .destroy = ftest_destroy,
    .flags = PX_PRED_LOSS_SENSITIVE,
    .key = ftest_key,
};

void px__ftest_init(px__ftest *st, const px__ftest_vt *vt, const char *name)
{
    memset(st, 0, sizeof *st);
    st->vt = vt;
    st->name = name;
}

px_predicate *px__ftest_wrap(px__ftest *st, bool negative)
{
    if (!st)
        return NULL;
    st->key = (px_key){PX_KEY_NONE, 0};
    st->has_key = st->vt->key && st->vt->key(st, &st->key) && st->key.kind > PX_KEY_NONE &&
                  st->key.kind < PX_KEY__COUNT;
    return px_predicate_new(negative ? &ftest_neg_ops : &ftest_pos_ops, st);
}

bool px__ftest_is(const px_predicate *p)
{
    const px_predicate_ops *ops = px_predicate_get_ops(p);
    return ops == &ftest_pos_ops || ops == &ftest_neg_ops;
}

/* ---- formatting helpers ---- */

void px__quote(px_buf *out, const char *s, size_t n)
{
    px_buf_append(out, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            px_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            px_buf_append(out, "\\n");
        else if (c == '\t')
            px_buf_append(out, "\\t");
        else if (c < 0x20 || c >= 0x7f)
            px_buf_printf(out, "\\x%02x", c);
        else
            px_buf_append_n(out, (const char *)&s[i], 1);
    }
    px_buf_append(out, "\"");
}

void px__prefix_format(const px_ip_prefix *pfx, px_buf *out)
{
    char text[INET6_ADDRSTRLEN];
    int af = pfx->family == 6 ? AF_INET6 : AF_INET;
    if (!inet_ntop(af, pfx->addr, text, sizeof text))
        snprintf(text, sizeof text, "?");
    px_buf_append(out, text);
    unsigned full = pfx->family == 6 ? 128 : 32;
    if (pfx->len != full)
        px_buf_printf(out, "/%u", pfx->len);
}

void px__mac_format(const uint8_t m[6], px_buf *out)
{
    char s[18];
    px_format_mac(m, s);
    px_buf_append(out, s);
}

void px__key_format(const px_key *k, px_buf *out)
{
    switch (k->kind) {
    case PX_KEY_ETHERTYPE: px_buf_printf(out, "ethertype 0x%04llx", (unsigned long long)k->value); return;
    case PX_KEY_VLAN_VID: px_buf_printf(out, "vlan %llu", (unsigned long long)k->value); return;
    case PX_KEY_IP_PROTO: px_buf_printf(out, "ip proto %llu", (unsigned long long)k->value); return;
    case PX_KEY_UDP_DPORT: px_buf_printf(out, "udp dport %llu", (unsigned long long)k->value); return;
    case PX_KEY_TCP_DPORT: px_buf_printf(out, "tcp dport %llu", (unsigned long long)k->value); return;
    case PX_KEY_DST_MAC: {
        uint8_t m[6];
        for (int i = 0; i < 6; i++)
            m[i] = (uint8_t)(k->value >> (8 * (5 - i)));
        px_buf_append(out, "dst mac ");
        px__mac_format(m, out);
        return;
    }
    case PX_KEY_NONE:
    case PX_KEY__COUNT: break;
    }
    px_buf_append(out, "no key");
}

/* The one frame summary (px_frame_summary, tcpdump's style), after the wire
 * length and, when the capture set it, the port: the port matters when an
 * expectation watches several. */
void px__frame_summary(const px_frame *f, px_buf *out)
{
    px_buf_printf(out, "%u bytes", f->wirelen);
    if (f->port)
        px_buf_printf(out, " on %s:", f->port);
    px_buf_append(out, " ");
    (void)px_frame_summary(f, out);
}

void *px__ftest_alloc(size_t size, const px__ftest_vt *vt, const char *name)
{
    px__ftest *st = calloc(1, size);
    if (st)
        px__ftest_init(st, vt, name);
    return st;
}

void px__why_sep(px_buf *why)
{
    if (why->len)
        px_buf_append(why, "; ");
}

unsigned px__why_no_layer(px_buf *why, const char *what, unsigned nconds)
{
    if (why) {
        px__why_sep(why);
        px_buf_printf(why, "no %s", what);
    }
    return nconds + 1;
}
