/* Helpers shared by the benchmarks: see pxb_util.h. */
#include "pxb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PX_BENCH_SOURCE_DIR
#define PX_BENCH_SOURCE_DIR "bench"
#endif

uint64_t pxb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void pxb_sleep_us(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

double pxb_cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
           (double)ru->ru_stime.tv_usec / 1e6;
}

double pxb_cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return pxb_cpu_s(&ru);
}

double pxb_cpu_thread(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return pxb_cpu_s(&ru);
}

uint64_t pxb_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void pxb_sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

double pxb_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    /* nearest rank: the smallest value with at least p% of the values <= it */
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

pxb_summary pxb_summarize(const double *v, size_t n)
{
    pxb_summary s = {0, 0, 0, n};
    if (n == 0)
        return s;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return s;
    memcpy(c, v, n * sizeof *c);
    pxb_sort(c, n);
    s.min = c[0];
    s.max = c[n - 1];
    s.median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return s;
}

/* ---- output ---- */

const char *pxb_bench_dir(void)
{
    const char *d = getenv("PX_BENCH_DIR");
    return d && *d ? d : PX_BENCH_SOURCE_DIR;
}

const char *pxb_python(void)
{
    const char *p = getenv("PX_PYTHON");
    return p && *p ? p : "python3";
}

int pxb_out_open(pxb_out *o, const char *bench)
{
    memset(o, 0, sizeof *o);
    snprintf(o->bench, sizeof o->bench, "%s", bench);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(o->stamp, sizeof o->stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *dir = getenv("PX_BENCH_RESULTS");
    char path[512];
    if (dir && *dir)
        snprintf(path, sizeof path, "%s/%s.json", dir, bench);
    else
        snprintf(path, sizeof path, "%s/results/%s.json", pxb_bench_dir(), bench);
    o->json = fopen(path, "a");
    if (!o->json) {
        fprintf(stderr, "%s: cannot append to %s: %s\n", bench, path, strerror(errno));
        return -1;
    }
    printf("\n== %s (%s) ==\n", bench, o->stamp);
    printf("%-26s %-44s %12s %12s %12s  %s\n", "figure", "parameters", "median", "min", "max", "unit");
    fflush(stdout);
    return 0;
}

void pxb_out_close(pxb_out *o)
{
    if (o->json)
        fclose(o->json);
    o->json = NULL;
}

/* Prints a JSON fragment without quotes and braces for the table ("tool=tcpdump k=16"). */
static void params_human(const char *params, char *out, size_t size)
{
    size_t j = 0;
    for (const char *s = params; *s && j + 1 < size; s++) {
        if (*s == '"')
            continue;
        out[j++] = *s == ':' ? '=' : *s == ',' ? ' ' : *s;
    }
    out[j] = '\0';
}

pxb_summary pxb_figure(pxb_out *o, const char *figure, const char *params, const char *unit, const double *v,
                       size_t n)
{
    pxb_summary s = pxb_summarize(v, n);
    char human[64];
    params_human(params ? params : "", human, sizeof human);
    printf("%-26s %-44s %12.6g %12.6g %12.6g  %s\n", figure, human, s.median, s.min, s.max, unit);
    fflush(stdout);
    if (o->json) {
        fprintf(o->json, "{\"bench\":\"%s\",\"run\":\"%s\",\"figure\":\"%s\"%s%s,\"unit\":\"%s\","
                         "\"median\":%.9g,\"min\":%.9g,\"max\":%.9g,\"runs\":%zu,\"values\":[",
                o->bench, o->stamp, figure, params && *params ? "," : "", params ? params : "", unit, s.median,
                s.min, s.max, n);
        for (size_t i = 0; i < n; i++)
            fprintf(o->json, "%s%.9g", i ? "," : "", v[i]);
        fprintf(o->json, "]}\n");
        fflush(o->json);
    }
    return s;
}

void pxb_note(pxb_out *o, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("  note: %s\n", text);
    fflush(stdout);
    if (!o->json)
        return;
    fprintf(o->json, "{\"bench\":\"%s\",\"run\":\"%s\",\"note\":\"", o->bench, o->stamp);
    for (const char *s = text; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', o->json);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, o->json);
    }
    fprintf(o->json, "\"}\n");
    fflush(o->json);
}

/* ---- interfaces ---- */

void pxb_veth_names(int i, char a[16], char b[16])
{
    int pid = (int)(getpid() % 100000);
    snprintf(a, 16, "pxk%05da%d", pid, i);
    snprintf(b, 16, "pxk%05db%d", pid, i);
}

static void disable_ipv6(const char *ifname)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* no IPv6 in this kernel: nothing to silence */
    ssize_t r = write(fd, "1", 1);
    (void)r;
    close(fd);
}

int pxb_veth_create(int i, char a[16], char b[16], char *errbuf)
{
    pxb_veth_names(i, a, b);
    px_topo_link_del(NULL, a, NULL);
    int rc = px_topo_veth_add(NULL, a, b, errbuf);
    if (rc != 0)
        return rc;
    disable_ipv6(a);
    disable_ipv6(b);
    return 0;
}

void pxb_veth_delete(const char *a)
{
    px_topo_link_del(NULL, a, NULL);
}

/* ---- frames ---- */

void pxb_frame64(uint8_t out[64], uint16_t sport, uint16_t dport)
{
    static const uint8_t head[] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* dst 02:00:00:00:00:02 */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* src 02:00:00:00:00:01 */
        0x08, 0x00,                         /* IPv4 */
        0x45, 0x00, 0x00, 50,               /* v4, ihl 5, total length 50 */
        0x00, 0x00, 0x40, 0x00,             /* id 0, DF */
        64, 17, 0x00, 0x00,                 /* ttl 64, UDP, checksum below */
        10, 0, 0, 1, 10, 0, 0, 2,           /* 10.0.0.1 -> 10.0.0.2 */
    };
    memset(out, 0, 64);
    memcpy(out, head, sizeof head);
    uint32_t sum = 0;
    for (int k = 14; k < 34; k += 2)
        sum += (uint32_t)(out[k] << 8 | out[k + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t ck = (uint16_t)~sum;
    out[24] = (uint8_t)(ck >> 8);
    out[25] = (uint8_t)ck;
    out[34] = (uint8_t)(sport >> 8);
    out[35] = (uint8_t)sport;
    out[36] = (uint8_t)(dport >> 8);
    out[37] = (uint8_t)dport;
    out[38] = 0;
    out[39] = 30; /* UDP length: 8 + 22 bytes of payload; checksum 0 = none */
    memcpy(out + 42, "pktexpect-bench-frame!", 22);
}

int pxb_blast(px_ctx *ctx, const char *port, const uint8_t (*frames)[64], size_t nframes, uint64_t count,
              double rate_fps, uint64_t *sent, uint64_t *elapsed_ns, char *errbuf)
{
    enum { BATCH = 1024, MAXF = 16 };
    px_tx_frame batch[BATCH + MAXF];
    if (nframes == 0 || nframes > MAXF) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "pxb_blast: 1..%d frames", MAXF);
        return PX_EINVAL;
    }
    for (size_t i = 0; i < BATCH + MAXF; i++)
        batch[i] = (px_tx_frame){frames[i % nframes], 64};
    *sent = 0;
    uint64_t t0 = pxb_now_ns();
    int rc = 0;
    if (rate_fps > 0) {
        /* px_send_paced repeats the list: give it a whole number of rounds of nframes. */
        px_pace_opts pace = {.count = count, .rate_fps = rate_fps};
        px_pace_report rep = {0};
        rc = px_send_paced(ctx, port, batch, nframes, NULL, &pace, &rep, errbuf);
        *sent = rep.sent;
    } else {
        while (*sent < count) {
            size_t n = count - *sent < BATCH ? (size_t)(count - *sent) : BATCH;
            /* keep the round robin across batches: start where the last one ended */
            size_t off = (size_t)(*sent % nframes);
            size_t done = 0;
            rc = px_send_burst(ctx, port, batch + off, n, NULL, &done, errbuf);
            *sent += done;
            if (rc != 0)
                break;
        }
    }
    *elapsed_ns = pxb_now_ns() - t0;
    return rc;
}

/* ---- child processes ---- */

int pxb_child_start(pxb_child *c, char *const argv[])
{
    memset(c, 0, sizeof *c);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    c->pid = pid;
    c->fd = p[0];
    return 0;
}

int pxb_child_readline(pxb_child *c, char *line, size_t size, int timeout_ms)
{
    uint64_t end = pxb_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl || c->len == sizeof c->buf) {
            size_t n = nl ? (size_t)(nl - c->buf) : c->len;
            size_t k = n < size - 1 ? n : size - 1;
            memcpy(line, c->buf, k);
            line[k] = '\0';
            size_t used = nl ? n + 1 : n;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return 1;
        }
        if (c->fd < 0)
            return -1;
        uint64_t now = pxb_now_ns();
        if (now >= end)
            return 0;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)((end - now) / 1000000ull) + 1);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc <= 0)
            continue;
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r <= 0) {
            close(c->fd);
            c->fd = -1;
            if (c->len) { /* a last line without newline */
                c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\n';
                c->len = c->len < sizeof c->buf ? c->len + 1 : c->len;
                continue;
            }
            return -1;
        }
        c->len += (size_t)r;
    }
}

bool pxb_child_expect(pxb_child *c, const char *needle, char *line, size_t size, int timeout_ms)
{
    char tmp[1024];
    uint64_t end = pxb_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        uint64_t now = pxb_now_ns();
        if (now >= end)
            return false;
        int rc = pxb_child_readline(c, tmp, sizeof tmp, (int)((end - now) / 1000000ull) + 1);
        if (rc < 0)
            return false;
        if (rc == 1 && strstr(tmp, needle)) {
            if (line)
                snprintf(line, size, "%s", tmp);
            return true;
        }
    }
}

void pxb_child_stop(pxb_child *c, int sig, int grace_ms)
{
    if (c->pid <= 0)
        return;
    if (sig)
        kill(c->pid, sig);
    uint64_t end = pxb_now_ns() + (uint64_t)grace_ms * 1000000ull;
    for (;;) {
        pid_t r = wait4(c->pid, &c->status, WNOHANG, &c->ru);
        if (r == c->pid || (r < 0 && errno != EINTR))
            break;
        if (pxb_now_ns() >= end) {
            kill(c->pid, SIGKILL);
            wait4(c->pid, &c->status, 0, &c->ru);
            break;
        }
        pxb_sleep_us(2000);
    }
    c->pid = 0;
}

void pxb_child_close(pxb_child *c)
{
    pxb_child_stop(c, SIGKILL, 0);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
