/* pktexpect: what test suites do around a topology (see topology.h): names
 * unique to a process, removing what a killed run left behind, quieting IPv6
 * on test interfaces, waiting until a link is ready. */
#include "pktexpect/topology.h"
#include "err_internal.h"
#include "link.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PID_DIGITS 5

void px_topo_name(char out[16], const char *prefix, const char *suffix)
{
    snprintf(out, 16, "%.4s%05d%.4s", prefix ? prefix : "", (int)(getpid() % 100000), suffix ? suffix : "");
}

/* True when `name` is "<prefix><5 digits><c>..." with <c> in `tags` and the
 * digits the pid (mod 100000) of a process that is gone and is not us. The
 * strict form keeps reaping away from names that other programs use. */
static bool stale(const char *name, const char *prefix, const char *tags)
{
    size_t plen = strlen(prefix);
    if (strncmp(name, prefix, plen) != 0 || strlen(name) < plen + PID_DIGITS + 1)
        return false;
    for (size_t i = plen; i < plen + PID_DIGITS; i++)
        if (!isdigit((unsigned char)name[i]))
            return false;
    if (!strchr(tags, name[plen + PID_DIGITS]))
        return false;
    long pid = strtol(name + plen, NULL, 10);
    if (pid <= 0 || pid == (long)getpid() % 100000)
        return false;
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/%ld", pid);
    struct stat st;
    return stat(proc, &st) != 0;
}

/* Deletes every stale entry of `dir` with `del`; returns how many, or the
 * first error. A missing directory has nothing stale. */
static int reap(const char *dir, const char *prefix, const char *tags, int (*del)(const char *name, char *errbuf),
                char *errbuf)
{
    if (!prefix || !*prefix || !tags || !*tags) {
        px__errbuf_printf(errbuf, "reaping needs a prefix and at least one tag character");
        return PX_EINVAL;
    }
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!stale(e->d_name, prefix, tags))
            continue;
        int r = del(e->d_name, errbuf);
        if (r == 0)
            n++;
        else if (rc == 0)
            rc = r;
    }
    closedir(d);
    return rc ? rc : n;
}

static int del_link(const char *name, char *errbuf) { return px_topo_link_del(NULL, name, errbuf); }

int px_topo_reap_links(const char *prefix, const char *tags, char *errbuf)
{
    return reap("/sys/class/net", prefix, tags, del_link, errbuf);
}

int px_topo_reap_netns(const char *prefix, const char *tags, char *errbuf)
{
    return reap("/run/netns", prefix, tags, px_topo_netns_del, errbuf);
}

/* ---- IPv6 off ---- */

/* Writes "1" into /proc/sys/net/ipv6/conf/<conf>/disable_ipv6 of the
 * namespace the calling thread is in (procfs shows the net namespace of the
 * thread that opens the file). */
static int disable_ipv6(const char *conf, char *errbuf)
{
    struct stat st;
    if (stat("/proc/sys/net/ipv6", &st) != 0)
        return 0; /* a kernel without IPv6: nothing to silence */
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", conf);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        int e = errno;
        px__errbuf_printf(errbuf, "turning IPv6 off on '%s': %s: %s", conf, path, strerror(e));
        return e == ENOENT ? PX_ENODEV : px__err_from_errno(e);
    }
    bool ok = fputs("1\n", fp) >= 0;
    ok = fclose(fp) == 0 && ok;
    if (!ok) {
        px__errbuf_printf(errbuf, "turning IPv6 off on '%s': writing %s failed", conf, path);
        return PX_EIO;
    }
    return 0;
}

static int op_link_no_ipv6(void *arg, char *errbuf) { return disable_ipv6(arg, errbuf); }

static int op_netns_no_ipv6(void *arg, char *errbuf)
{
    (void)arg;
    int rc = disable_ipv6("default", errbuf);
    return rc ? rc : disable_ipv6("all", errbuf);
}

int px_topo_link_no_ipv6(const char *netns, const char *name, char *errbuf)
{
    if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        px__errbuf_printf(errbuf, "px_topo_link_no_ipv6: not an interface name");
        return PX_EINVAL;
    }
    return px_topo_netns_run(netns, op_link_no_ipv6, (void *)name, errbuf);
}

int px_topo_netns_no_ipv6(const char *netns, char *errbuf)
{
    if (!netns) {
        px__errbuf_printf(errbuf, "px_topo_netns_no_ipv6: a namespace name is needed");
        return PX_EINVAL;
    }
    return px_topo_netns_run(netns, op_netns_no_ipv6, NULL, errbuf);
}

/* ---- readiness ---- */

/* The interface's flags (SIOCGIFFLAGS) in the namespace of the calling thread,
 * or a negative PX_E*. */
static int op_flags(void *arg, char *errbuf)
{
    (void)errbuf;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return PX_ESYS;
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", (const char *)arg);
    int rc = ioctl(s, SIOCGIFFLAGS, &r);
    int e = errno;
    close(s);
    if (rc < 0)
        return e == ENODEV ? PX_ENODEV : px__err_from_errno(e);
    return r.ifr_flags & 0xffff;
}

int px_topo_link_wait_ready(const char *netns, const char *name, uint32_t timeout_ms, char *errbuf)
{
    if (!name || !*name) {
        px__errbuf_printf(errbuf, "px_topo_link_wait_ready: no interface name");
        return PX_EINVAL;
    }
    if (px__link_wait_ready(netns, name, (uint64_t)timeout_ms * 1000000u, NULL))
        return 0;
    /* Say why, so that a setup that never comes up is not a mystery. */
    int flags = px_topo_netns_run(netns, op_flags, (void *)name, NULL);
    const char *why = flags == PX_ENODEV      ? "there is no such interface"
                      : flags < 0             ? "its state cannot be read"
                      : !(flags & IFF_UP)     ? "it is down (set it up)"
                      : !(flags & IFF_RUNNING) ? "it has no carrier (is its peer up, in the same namespace?)"
                                              : "no queueing discipline is attached to it yet";
    px__errbuf_printf(errbuf, "interface '%s'%s%s is not ready after %u ms: %s", name, netns ? " in namespace " : "",
                      netns ? netns : "", (unsigned)timeout_ms, why);
    return flags == PX_ENODEV ? PX_ENODEV : PX_ETIMEDOUT;
}
