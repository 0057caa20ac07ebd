/* pktexpect runner: the evidence directory of `run --pcap-dir`. See evidence_dir.h. */
#include "evidence_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktexpect/error.h"

/* Collision suffixes tried before giving up ("-2" .. "-999"). */
#define MAX_ATTEMPTS 999

int px_evdir_open(px_evdir *d, const char *dir, px_buf *err)
{
    memset(d, 0, sizeof *d);
    if (!dir || !*dir) {
        px_buf_append(err, "no directory given");
        return PX_EINVAL;
    }
    if (mkdir(dir, 0755) == 0) {
        d->created = true;
    } else if (errno != EEXIST) {
        px_buf_printf(err, "cannot create '%s': %s", dir, strerror(errno));
        return PX_EIO;
    } else {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            px_buf_printf(err, "'%s' exists and is not a directory", dir);
            return PX_EIO;
        }
    }
    d->dir = strdup(dir);
    if (!d->dir) {
        if (d->created)
            rmdir(dir);
        d->created = false;
        px_buf_append(err, "out of memory");
        return PX_ENOMEM;
    }
    return 0;
}

static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static bool keep_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

/* "STEM-HASH" without the extension. */
static char *stem(const char *suite, const char *test)
{
    /* The NUL between the names keeps ("a-b", "c") and ("a", "b-c") apart. */
    uint32_t h = fnv1a(2166136261u, suite, strlen(suite) + 1);
    h = fnv1a(h, test, strlen(test));
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%s-%s", suite, test);
    char *s = px_buf_steal(&b);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > PX_EVDIR_PREFIX_MAX)
        n = PX_EVDIR_PREFIX_MAX;
    for (size_t i = 0; i < n; i++)
        if (!keep_char(s[i]))
            s[i] = '_';
    px_buf_append_n(&b, s, n);
    px_buf_printf(&b, "-%08x", (unsigned)h);
    free(s);
    return px_buf_steal(&b);
}

char *px_evdir_name(const char *suite, const char *test)
{
    char *s = stem(suite, test);
    if (!s)
        return NULL;
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "%s.pcapng", s);
    free(s);
    return px_buf_steal(&b);
}

int px_evdir_create(const px_evdir *d, const char *suite, const char *test, px_evidence **ev, char **path,
                    px_buf *err)
{
    *ev = NULL;
    *path = NULL;
    char *s = stem(suite, test);
    if (!s) {
        px_buf_append(err, "out of memory");
        return PX_ENOMEM;
    }
    int fd = -1, e = 0;
    char *p = NULL;
    for (int i = 1; i <= MAX_ATTEMPTS && fd < 0; i++) {
        px_buf b = PX_BUF_INIT;
        if (i == 1)
            px_buf_printf(&b, "%s/%s.pcapng", d->dir, s);
        else
            px_buf_printf(&b, "%s/%s-%d.pcapng", d->dir, s, i);
        free(p);
        p = px_buf_steal(&b);
        if (!p) {
            e = ENOMEM;
            break;
        }
        /* O_EXCL: never open what is already there (it fails with EEXIST on a
         * link too, dangling or not); O_NOFOLLOW says the same for readers. */
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        e = fd < 0 ? errno : 0;
        if (fd < 0 && e != EEXIST)
            break;
    }
    free(s);
    if (fd < 0) {
        if (e == ENOMEM || !p)
            px_buf_append(err, "out of memory");
        else
            px_buf_printf(err, "cannot create '%s': %s", p, strerror(e));
        free(p);
        return e == ENOMEM ? PX_ENOMEM : PX_EIO;
    }
    char eb[PX_ERRBUF_SIZE] = "";
    *ev = px_evidence_open_fd(fd, eb);
    if (!*ev) {
        px_buf_printf(err, "'%s': %s", p, eb);
        unlink(p);
        free(p);
        return PX_EIO;
    }
    *path = p;
    return 0;
}

void px_evdir_close(px_evdir *d)
{
    /* rmdir fails (ENOTEMPTY) when evidence was kept: that is the point. */
    if (d->created && d->dir)
        rmdir(d->dir);
    free(d->dir);
    d->dir = NULL;
    d->created = false;
}
