/* pktexpect: saw_field / did_not_see_field, the field predicate driven by the
 * field table (harness/frame_proto.c): any field of the table, by the name a
 * diff prints ("ipv4.ttl"). Split from fields.c, whose per-protocol predicates
 * share its helpers through pred_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_proto.h"
#include "pred_internal.h"
#include "pktexpect/build.h"
#include "pktexpect/error.h"
#include "pktexpect/predicates.h"

/* ---- any field of the table: saw_field("ipv4.ttl", "63") ---- */

/* The field table (frame_proto.c) drives this test: the path is the name a diff
 * prints ("ipv4.ttl"), the value is read by the builder exactly as the text
 * form reads IPv4(ttl=63), and the frame's field is read where the table says
 * it is. A field added to the table is therefore testable here with no code. */
typedef struct {
    px__ftest head;
    px__pid pid;
    int fi;
    char path[40];                  /* "ipv4.ttl", as the table spells it */
    uint8_t want[PX__HDR_MAX];      /* the header the builder made with the value */
    uint32_t want_len;
    int want_off;                   /* where the field lies in `want` */
    char want_text[160];            /* the value, formatted by the table */
} field_st;

/* The first layer of frame f that is a `pid` layer, or NULL. */
static const px_layer *find_proto(const px_frame *f, px__pid pid)
{
    for (unsigned i = 0; i < f->nlayers && i < PX_FRAME_MAX_LAYERS; i++)
        if (px__layer_is(f, &f->layers[i], pid))
            return &f->layers[i];
    return NULL;
}

/* True when field fd at offset `off` of header h (hlen bytes) holds the wanted value. */
static bool field_equal(const field_st *st, const px__field *fd, const uint8_t *h, uint32_t hlen, int off)
{
    switch ((px__ftype)fd->type) {
    case PX__F_UINT:
    case PX__F_HEX:
    case PX__F_TCPFLAGS: return px__field_get_uint(fd, h, off) == px__field_get_uint(fd, st->want, st->want_off);
    case PX__F_MAC:
    case PX__F_IPV4:
    case PX__F_IPV6: return memcmp(h + off, st->want + st->want_off, fd->nbytes) == 0;
    case PX__F_BYTES: /* options: the rest of the header, padding included */
        return hlen - (uint32_t)off == st->want_len - (uint32_t)st->want_off &&
               memcmp(h + off, st->want + st->want_off, hlen - (uint32_t)off) == 0;
    }
    return false;
}

static unsigned field_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const field_st *st = (const field_st *)self;
    const px__proto *pr = px__proto_get(st->pid);
    const px_layer *l = find_proto(f, st->pid);
    if (!l) {
        if (why) {
            px__why_sep(why);
            px_buf_printf(why, "no %s header", pr->name);
        }
        return 2;
    }
    const uint8_t *h = f->data + l->off;
    int off = px__field_wire_off(pr, st->fi, h, l->len);
    if (off >= 0 && field_equal(st, &pr->fields[st->fi], h, l->len, off))
        return 0;
    if (why) {
        char got[160];
        if (off < 0 || !px__field_show(pr, st->fi, h, l->len, got, sizeof got))
            snprintf(got, sizeof got, "(absent)");
        px__why_sep(why);
        px_buf_printf(why, "%s: expected %s, got %s", st->path, st->want_text, got);
    }
    return 1;
}

static void field_args(const px__ftest *self, px_buf *out)
{
    const field_st *st = (const field_st *)self;
    px_buf_printf(out, "%s, ", st->path);
    px__quote(out, st->want_text, strlen(st->want_text));
}

/* The test reads the first layer of its protocol in the frame. That is the very
 * layer a key reads for three fields: the first UDP / TCP layer (UDP_DPORT,
 * TCP_DPORT) and the first Ethernet header, the outer one (DST_MAC); the key of
 * the field's wanted value is then exact. Other fields declare none: the first
 * VLAN tag of a frame may be an inner one while VLAN_VID reads the outer frame,
 * and eth.type or ipv4.proto are not what ETHERTYPE and IP_PROTO read. */
static bool field_key(const px__ftest *self, px_key *out)
{
    const field_st *st = (const field_st *)self;
    const px__field *fd = &px__proto_get(st->pid)->fields[st->fi];
    if ((st->pid == PX__P_UDP || st->pid == PX__P_TCP) && strcmp(fd->name, "dport") == 0)
        return px__key_set(out, st->pid == PX__P_UDP ? PX_KEY_UDP_DPORT : PX_KEY_TCP_DPORT,
                       px__field_get_uint(fd, st->want, st->want_off));
    if (st->pid == PX__P_ETHER && strcmp(fd->name, "dst") == 0) {
        uint64_t v = 0;
        for (int i = 0; i < 6; i++)
            v = v << 8 | st->want[st->want_off + i];
        return px__key_set(out, PX_KEY_DST_MAC, v);
    }
    return false;
}

static const px__ftest_vt field_vt = {field_test, field_args, NULL, field_key};

static px_predicate *field_new(const char *path, const char *value, bool neg, char *errbuf)
{
    char err[PX_ERRBUF_SIZE];
    px__pid pid;
    int fi;
    if (!path || !value || px__field_by_path(path, &pid, &fi) != 0) {
        snprintf(err, sizeof err, "unknown field '%s': expected layer.field as a diff names it (ipv4.ttl)",
                 path ? path : "(null)");
        goto fail;
    }
    const px__proto *pr = px__proto_get(pid);
    /* The builder parses and writes the value: the text form's very rules. */
    px_pkt *pkt = px_pkt_new();
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = !pkt ? PX_ENOMEM : px_pkt_push(pkt, pr->name, err);
    if (rc == 0)
        rc = px_pkt_set(pkt, pr->fields[fi].name, value, err);
    if (rc == 0)
        rc = px_pkt_build(pkt, &bytes, &len, err);
    px_pkt_free(pkt);
    if (rc != 0) {
        if (rc == PX_ENOMEM)
            snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    field_st *st = px__ftest_alloc(sizeof *st, &field_vt, neg ? "did_not_see_field" : "saw_field");
    int off = len <= PX__HDR_MAX ? px__field_wire_off(pr, fi, bytes, (uint32_t)len) : -1;
    if (!st || off < 0) {
        if (st)
            snprintf(err, sizeof err, "%s: the builder left the field out", path);
        else
            snprintf(err, sizeof err, "out of memory");
        free(bytes);
        free(st);
        goto fail;
    }
    st->pid = pid;
    st->fi = fi;
    snprintf(st->path, sizeof st->path, "%s.%s", pr->short_name, pr->fields[fi].name);
    memcpy(st->want, bytes, len);
    st->want_len = (uint32_t)len;
    st->want_off = off;
    px__field_show(pr, fi, st->want, st->want_len, st->want_text, sizeof st->want_text);
    free(bytes);
    return px__ftest_wrap(&st->head, neg);
fail:
    if (errbuf)
        snprintf(errbuf, PX_ERRBUF_SIZE, "%s", err);
    /* A refused argument keeps its reason in the predicate (predicates.h). */
    return strcmp(err, "out of memory") ? px__pred_refused(neg ? "did_not_see_field" : "saw_field", "%s", err) : NULL;
}

px_predicate *px_saw_field(const char *field, const char *value, char *errbuf) { return field_new(field, value, false, errbuf); }
px_predicate *px_did_not_see_field(const char *field, const char *value, char *errbuf) { return field_new(field, value, true, errbuf); }

/* ---- payload_contains ---- */

typedef struct {
    px__ftest head;
    size_t n;
    uint8_t *needle;
} payload_st;

static unsigned payload_test(const px__ftest *self, const px_frame *f, px_buf *why)
{
    const payload_st *st = (const payload_st *)self;
    uint32_t off, len;
    if (!px_frame_payload(f, &off, &len))
        return px__why_no_layer(why, "payload", 1);
    /* px_frame_payload keeps [off, off + len) inside the captured bytes; check anyway. */
    if (off > f->caplen || len > f->caplen - off)
        return px__why_no_layer(why, "payload inside the captured bytes", 1);
    if (len >= st->n && memmem(f->data + off, len, st->needle, st->n))
        return 0;
    if (why) {
        px__why_sep(why);
        px_buf_printf(why, "payload (%u bytes) does not contain the %zu bytes", len, st->n);
    }
    return 1;
}

static void payload_args(const px__ftest *self, px_buf *out)
{
    const payload_st *st = (const payload_st *)self;
    bool text = true;
    for (size_t i = 0; i < st->n; i++)
        if (st->needle[i] < 0x20 || st->needle[i] >= 0x7f)
            text = false;
    if (text) {
        px__quote(out, (const char *)st->needle, st->n);
        return;
    }
    px_buf_append(out, "hex=\"");
    for (size_t i = 0; i < st->n; i++)
        px_buf_printf(out, "%02x", st->needle[i]);
    px_buf_append(out, "\"");
}

static void payload_cleanup(px__ftest *self) { free(((payload_st *)self)->needle); }

static const px__ftest_vt payload_vt = {payload_test, payload_args, payload_cleanup, NULL};

static px_predicate *payload_new(const uint8_t *needle, size_t n, bool neg)
{
    if (!needle || n == 0)
        return px__pred_refused(neg ? "did_not_see_payload" : "payload_contains",
                                "needle must be at least 1 byte, got %s", needle ? "0 bytes" : "NULL");
    payload_st *st = px__ftest_alloc(sizeof *st, &payload_vt, neg ? "did_not_see_payload" : "payload_contains");
    if (!st)
        return NULL;
    st->needle = malloc(n);
    if (!st->needle) {
        free(st);
        return NULL;
    }
    memcpy(st->needle, needle, n);
    st->n = n;
    return px__ftest_wrap(&st->head, neg);
}

px_predicate *px_payload_contains(const uint8_t *needle, size_t n) { return payload_new(needle, n, false); }
px_predicate *px_did_not_see_payload(const uint8_t *needle, size_t n) { return payload_new(needle, n, true); }
