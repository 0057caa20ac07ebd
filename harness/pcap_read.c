/* TEMPORARY stub */
#include <stdlib.h>
#include "pcap_read.h"
#include "pktexpect/error.h"
px__pcap_reader *px__pcap_reader_new(int fd, char *errbuf) { (void)fd; (void)errbuf; return NULL; }
int px__pcap_reader_next(px__pcap_reader *r, px__pcap_rec *rec, char *errbuf) { (void)r; (void)rec; (void)errbuf; return PX_ECLOSED; }
const char *px__pcap_reader_format(const px__pcap_reader *r) { (void)r; return NULL; }
void px__pcap_reader_free(px__pcap_reader *r) { (void)r; }
