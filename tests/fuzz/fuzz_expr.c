/* libFuzzer target for the expression language parser.
 *
 * For any input: parsing never crashes or leaks; when it succeeds, the
 * predicate's description parses again to the same description, and the
 * predicate survives being fed a few frames through the normal dispatch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/expr.h"
#include "pktexpect/text.h"

#define MAX_INPUT 4096

static const char *const FRAMES[] = {
    "Ether(dst=ff:ff:ff:ff:ff:ff)/Dot1Q(vlan=102,pcp=3)/IPv4(src=10.0.0.1,dst=10.0.0.2,ttl=63)/UDP(dport=53)/Raw(\"hi\")",
    "Ether()/IPv6(src=2001:db8::1)/TCP(flags=\"SA\")",
    "Ether()/MPLS(label=100)/IPv4()/UDP()/VXLAN(vni=7)/Ether()/IPv4()/ICMP()",
};

static void feed(px_predicate *p)
{
    bool stopped = false;
    for (size_t i = 0; i < sizeof FRAMES / sizeof FRAMES[0] && !stopped; i++) {
        uint8_t *bytes;
        size_t len;
        char err[PX_ERRBUF_SIZE];
        if (px_frame_parse_text(FRAMES[i], &bytes, &len, err) != 0)
            abort(); /* the fixed frames always parse */
        px_frame f;
        px_frame_dissect(&f, bytes, (uint32_t)len, (uint32_t)len);
        stopped = px_predicate_offer(p, &f);
        free(bytes);
    }
    px_result res = {0};
    px_verdict v = px_predicate_finish(p, !stopped, &res);
    if (v != PX_PASS && v != PX_FAIL && v != PX_ERROR)
        abort();
    px_buf_free(&res.explanation);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    px_registry *reg = px_registry_new();
    px_predicate *p = NULL;
    px_expr_error err;
    if (reg && px_expr_parse(reg, text, &p, &err) == 0) {
        px_buf d1 = PX_BUF_INIT, d2 = PX_BUF_INIT;
        px_predicate_describe(p, &d1);
        px_predicate *q = NULL;
        if (px_expr_parse(reg, px_buf_cstr(&d1), &q, &err) != 0) {
            fprintf(stderr, "description '%s' does not parse: %s\n", px_buf_cstr(&d1), err.message);
            abort();
        }
        px_predicate_describe(q, &d2);
        if (strcmp(px_buf_cstr(&d1), px_buf_cstr(&d2)) != 0) {
            fprintf(stderr, "'%s' re-describes as '%s'\n", px_buf_cstr(&d1), px_buf_cstr(&d2));
            abort();
        }
        feed(p);
        px_predicate_free(p);
        px_predicate_free(q);
        px_buf_free(&d1);
        px_buf_free(&d2);
    } else if (p) {
        abort(); /* a failed parse leaves *out NULL */
    }
    px_registry_free(reg);
    free(text);
    return 0;
}
