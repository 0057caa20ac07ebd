/* libFuzzer target: the pcap / pcapng stream reader (harness/pcap_read.c).
 * The input is read twice: whole, from a memfd, and in small pieces through a
 * non-blocking pipe (the piece size comes from the last input byte), so every
 * partial-record path runs. Every record's bytes are touched (ASan checks the
 * bounds), and both reads must give the same records and the same final code
 * and message. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcap_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
    uint64_t hash; /* FNV-1a over the records */
    int rc;        /* the final code */
    char msg[PX_ERRBUF_SIZE];
} outcome;

static void mix(uint64_t *h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
}

static void take(outcome *o, const px__pcap_rec *rec)
{
    if (rec->type == PX__PCAP_REC_FRAME ? rec->data == NULL : rec->data != NULL || rec->caplen != 0)
        abort();
    if (rec->ts.tv_nsec < 0 || rec->ts.tv_nsec >= 1000000000L)
        abort();
    uint64_t f[] = {rec->type, rec->iface, (uint64_t)rec->ts.tv_sec, (uint64_t)rec->ts.tv_nsec, rec->caplen,
                    rec->wirelen, rec->linktype, rec->has_drops, rec->drops};
    mix(&o->hash, f, sizeof f);
    if (rec->iface_name)
        mix(&o->hash, rec->iface_name, strlen(rec->iface_name) + 1);
    if (rec->caplen)
        mix(&o->hash, rec->data, rec->caplen);
}

static void read_whole(const uint8_t *data, size_t size, outcome *o)
{
    int fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    lseek(fd, 0, SEEK_SET);
    px__pcap_reader *r = px__pcap_reader_new(fd, NULL);
    px__pcap_rec rec;
    while ((o->rc = px__pcap_reader_next(r, &rec, o->msg)) == 1)
        take(o, &rec);
    if (o->rc == 0) /* a regular file never says "no more now" */
        abort();
    px__pcap_reader_free(r);
    close(fd);
}

static void read_pieces(const uint8_t *data, size_t size, size_t piece, outcome *o)
{
    int p[2];
    if (pipe2(p, O_NONBLOCK) != 0)
        abort();
    px__pcap_reader *r = px__pcap_reader_new(p[0], NULL);
    px__pcap_rec rec;
    size_t off = 0;
    for (;;) {
        o->rc = px__pcap_reader_next(r, &rec, o->msg);
        if (o->rc == 1) {
            take(o, &rec);
            continue;
        }
        if (o->rc < 0)
            break;
        if (off == size) { /* everything written and read: end of stream */
            if (p[1] < 0)
                abort(); /* 0 after the end */
            close(p[1]);
            p[1] = -1;
            continue;
        }
        size_t n = size - off < piece ? size - off : piece;
        ssize_t k = write(p[1], data + off, n);
        if (k <= 0)
            abort(); /* the reader drains the pipe before asking for more */
        off += (size_t)k;
    }
    px__pcap_reader_free(r);
    if (p[1] >= 0)
        close(p[1]);
    close(p[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    static outcome a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    read_whole(data, size, &a);
    read_pieces(data, size, size ? 1u + data[size - 1] % 61u : 1u, &b);
    if (a.hash != b.hash || a.rc != b.rc || strcmp(a.msg, b.msg) != 0)
        abort(); /* the records must not depend on how the bytes arrive */
    return 0;
}
