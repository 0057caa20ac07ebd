/* TEMPORARY (replaced by the reader's real header at merge) */
#ifndef PX_PCAP_READ_H
#define PX_PCAP_READ_H
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
typedef struct px__pcap_reader px__pcap_reader;
typedef enum { PX__PCAP_REC_FRAME = 1, PX__PCAP_REC_STATS } px__pcap_rec_type;
typedef struct px__pcap_rec {
    px__pcap_rec_type type;
    uint32_t iface;
    const char *iface_name;
    struct timespec ts;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint32_t linktype;
    bool has_drops;
    uint64_t drops;
} px__pcap_rec;
px__pcap_reader *px__pcap_reader_new(int fd, char *errbuf);
int px__pcap_reader_next(px__pcap_reader *r, px__pcap_rec *rec, char *errbuf);
const char *px__pcap_reader_format(const px__pcap_reader *r);
void px__pcap_reader_free(px__pcap_reader *r);
#endif
