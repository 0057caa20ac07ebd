/* pktexpect internal: the table of protocols and fields shared by the builder,
 * the text form, the printer and the diff. One table, so a field has the same
 * name, position and range everywhere ("ipv4.ttl" in a diff mask is `ttl` in
 * IPv4(ttl=64)). Not installed.
 */
#ifndef PX_FRAME_PROTO_H
#define PX_FRAME_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktexpect/frame.h"

typedef enum px__ftype {
    PX__F_UINT,     /* printed in decimal */
    PX__F_HEX,      /* printed as 0x.. */
    PX__F_TCPFLAGS, /* printed as letters "SA"; accepts letters or a number */
    PX__F_MAC,
    PX__F_IPV4,
    PX__F_IPV6,
    PX__F_BYTES,    /* the rest of the header from `off` (options) */
} px__ftype;

enum {
    PX__FF_AUTO = 1, /* computed by the builder unless set */
    PX__FF_GRE = 2,  /* GRE optional word: present when its flag bit is set */
    /* An integer the text form prints in decimal but people write and read in
     * hex (tcpdump prints "flowlabel 0x12345"): diffs and field predicates show
     * it in hex (px__field_show), as fields of hex type already are. */
    PX__FF_SHOW_HEX = 4,
};

typedef struct px__field {
    const char *name;
    const char *alias; /* accepted in text and masks, NULL if none */
    uint8_t off;       /* byte offset in the header (builder layout for GRE) */
    uint8_t nbytes;    /* bytes read big-endian for integers; address size */
    uint8_t shift;     /* integer: right shift after the read */
    uint8_t width;     /* integer: bits */
    uint8_t type;      /* px__ftype */
    uint8_t flags;     /* PX__FF_* */
} px__field;

typedef enum px__pid {
    PX__P_ETHER,
    PX__P_LLC,
    PX__P_DOT1Q,
    PX__P_DOT1AD,
    PX__P_ARP,
    PX__P_IPV4,
    PX__P_IPV6,
    PX__P_HBH,
    PX__P_ROUTING,
    PX__P_FRAG,
    PX__P_DSTOPTS,
    PX__P_TCP,
    PX__P_UDP,
    PX__P_ICMP,
    PX__P_ICMPV6,
    PX__P_MPLS,
    PX__P_GRE,
    PX__P_VXLAN,
    PX__P_RAW,
    PX__P_PAD,
    PX__P_COUNT
} px__pid;

#define PX__HDR_MAX 64 /* longest header the builder keeps (IPv4/TCP with options: 60) */

typedef struct px__proto {
    const char *name;     /* text form: "IPv4" */
    const char *short_name; /* diff and listing: "ipv4" */
    px_layer_kind kind;   /* dissector kind */
    uint8_t hlen;         /* default header length */
    uint8_t align;        /* header length multiple when options are set */
    const uint8_t *defaults; /* hlen bytes */
    const px__field *fields;
    uint8_t nfields;
} px__proto;

const px__proto *px__proto_get(px__pid id);
/** Finds a protocol by its text name (case-sensitive); PX__P_COUNT if none. */
px__pid px__proto_by_name(const char *name, size_t len);
/** Index of a field by name or alias, -1 if none. */
int px__field_index(const px__proto *p, const char *name, size_t len);
/** Finds a protocol by its short name ("ipv4"; "vlan" gives Dot1Q, whose fields
 *  Dot1AD shares); PX__P_COUNT if none. */
px__pid px__proto_by_short(const char *name, size_t len);
/** Resolves a field path "short.field" ("ipv4.ttl", "vlan.vid"), the name a
 *  diff prints and a mask or a field predicate takes: 0, or -1 when the layer
 *  or the field is unknown. Sets *pid and *fi on success. */
int px__field_by_path(const char *path, px__pid *pid, int *fi);
/** True when dissected layer l of f is a `pid` layer in the table's terms, short
 *  names compared (a Dot1AD tag is a "vlan" layer like a Dot1Q one). */
bool px__layer_is(const px_frame *f, const px_layer *l, px__pid pid);

/** Which protocol a dissected layer is in the table's terms (PX__P_RAW when the
 *  table cannot express it exactly). */
px__pid px__proto_of_layer(const px_frame *f, const px_layer *l);

/** Byte offset of field `fi` in a header of `hlen` bytes laid out as on the wire,
 *  or -1 when the field is absent (GRE word whose flag is clear, options beyond
 *  the header). */
int px__field_wire_off(const px__proto *p, int fi, const uint8_t *h, uint32_t hlen);
/** Reads an integer field at byte offset `off` of `h`. */
uint32_t px__field_get_uint(const px__field *fd, const uint8_t *h, int off);
/** Writes an integer field (masked to its width) at byte offset `off`. */
void px__field_put_uint(const px__field *fd, uint8_t *h, int off, uint32_t v);
/** Largest value of an integer field. */
uint32_t px__field_max(const px__field *fd);

/** Formats field `fi` of header `h` (hlen bytes, wire layout) into out. Returns
 *  false when the field is absent. */
bool px__field_format(const px__proto *p, int fi, const uint8_t *h, uint32_t hlen, char *out, size_t outsz);

/** px__field_format for people reading a difference (diffs, predicate
 *  messages): PX__FF_SHOW_HEX integers in hex. */
bool px__field_show(const px__proto *p, int fi, const uint8_t *h, uint32_t hlen, char *out, size_t outsz);

uint16_t px__ethertype_of(px__pid next);

/** Hex bytes "0a0b0c", "0x0a0b", "0a:0b 0c" into out (at most cap): 0,
 *  PX_EPARSE or PX_ERANGE (too many bytes). */
int px__parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n);

/** Edit distance of a[0, la) and b[0, lb) (99 when either is over 40 bytes),
 *  for "did you mean" in messages (frame_derive.c). */
unsigned px__edit_distance(const char *a, size_t la, const char *b, size_t lb);

struct px_pkt;
/** Number of layers of a frame description, and the protocol and explicitly-set
 *  field bits of layer i (frame_build.c). */
size_t px__pkt_nlayers(const struct px_pkt *p);
void px__pkt_layer_info(const struct px_pkt *p, size_t i, px__pid *pid, uint32_t *set);

/* Value of a hexadecimal digit, -1 for any other character. */
static inline int px__hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
