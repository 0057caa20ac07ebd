/* pktexpect runner: topology name locks, run state files, `pktexpect clean`
 * (see topo_state.h). */
#include "topo_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktexpect/topology.h"

#define MAX_NAMES 256

struct px_tstate {
    int state_fd;
    char state_path[512];
    int lock_fds[MAX_NAMES];
    const char *lock_names[MAX_NAMES]; /* the scenario's strings, for lock_name */
    bool lock_is_link[MAX_NAMES];
    size_t nlocks;
};

const char *px_tstate_dir(void)
{
    const char *d = getenv("PKTEXPECT_STATE_DIR");
    return d && *d ? d : "/run/pktexpect";
}

static int mkdirs(px_buf *why)
{
    char path[512];
    const char *dir = px_tstate_dir();
    snprintf(path, sizeof path, "%s", dir);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        px_buf_printf(why, "cannot create the state directory '%s': %s", path, strerror(errno));
        return PX_EIO;
    }
    snprintf(path, sizeof path, "%s/lock", dir);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        px_buf_printf(why, "cannot create '%s': %s", path, strerror(errno));
        return PX_EIO;
    }
    return 0;
}

static void lock_path(char *out, size_t cap, bool is_link, const char *name)
{
    snprintf(out, cap, "%s/lock/%s-%s", px_tstate_dir(), is_link ? "link" : "netns", name);
}

/* The pid written in a lock or state file, 0 when unreadable. */
static long pid_in(int fd)
{
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strncmp(buf, "pid ", 4) == 0 ? buf + 4 : buf;
    return strtol(p, NULL, 10);
}

/* Takes the lock of one name; PX_EEXIST with the holder's pid in `why`. */
static int lock_name(px_tstate *t, bool is_link, const char *name, const px_scenario *s, px_buf *why)
{
    /* A name the topology creates twice (an interface made in the runner's
     * namespace, moved away, then made again for another namespace) is locked
     * once: a second flock of this run would be refused like another run's. */
    for (size_t i = 0; i < t->nlocks; i++)
        if (t->lock_is_link[i] == is_link && !strcmp(t->lock_names[i], name))
            return 0;
    if (t->nlocks == MAX_NAMES) {
        px_buf_printf(why, "%s: more than %d topology names", s->path, MAX_NAMES);
        return PX_ERANGE;
    }
    char path[600];
    lock_path(path, sizeof path, is_link, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        px_buf_printf(why, "cannot open the lock '%s': %s", path, strerror(errno));
        return PX_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        long pid = pid_in(fd);
        close(fd);
        px_buf_printf(why,
                      "%s: another run holds the %s '%s' of this topology (pid %ld): wait for it to end; "
                      "'pktexpect clean' removes what a dead run left",
                      s->path, is_link ? "interface" : "namespace", name, pid);
        return PX_EEXIST;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* the pid is only for messages: the lock itself holds */
    }
    t->lock_names[t->nlocks] = name;
    t->lock_is_link[t->nlocks] = is_link;
    t->lock_fds[t->nlocks++] = fd;
    return 0;
}

int px_tstate_begin(const px_scenario *s, px_tstate **out, px_buf *why)
{
    *out = NULL;
    if (s->nnamespaces == 0 && s->nveths == 0 && s->nbridges == 0)
        return 0;
    int rc = mkdirs(why);
    if (rc)
        return rc;
    px_tstate *t = calloc(1, sizeof *t);
    if (!t)
        return PX_ENOMEM;
    t->state_fd = -1;
    for (size_t i = 0; rc == 0 && i < s->nnamespaces; i++)
        rc = lock_name(t, false, s->namespaces[i], s, why);
    /* Veth ends are made in the runner's namespace, then moved: lock both. */
    for (size_t i = 0; rc == 0 && i < s->nveths; i++) {
        rc = lock_name(t, true, s->veths[i].name, s, why);
        if (rc == 0)
            rc = lock_name(t, true, s->veths[i].peer, s, why);
    }
    /* A bridge inside a namespace is covered by the namespace's lock. */
    for (size_t i = 0; rc == 0 && i < s->nbridges; i++)
        if (!s->bridges[i].netns)
            rc = lock_name(t, true, s->bridges[i].name, s, why);
    if (rc == 0) {
        snprintf(t->state_path, sizeof t->state_path, "%s/run-%ld.state", px_tstate_dir(), (long)getpid());
        t->state_fd = open(t->state_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (t->state_fd < 0 || flock(t->state_fd, LOCK_EX | LOCK_NB) < 0) {
            px_buf_printf(why, "cannot create the state file '%s': %s", t->state_path, strerror(errno));
            rc = PX_EIO;
        } else {
            dprintf(t->state_fd, "pid %ld\nscenario %s\n", (long)getpid(), s->path);
        }
    }
    if (rc) {
        px_tstate_end(t, true);
        return rc;
    }
    *out = t;
    return 0;
}

void px_tstate_add(px_tstate *t, bool is_link, const char *link_netns, const char *name)
{
    if (!t || t->state_fd < 0)
        return;
    if (is_link)
        dprintf(t->state_fd, "link %s %s\n", link_netns ? link_netns : "-", name);
    else
        dprintf(t->state_fd, "netns %s\n", name);
}

void px_tstate_end(px_tstate *t, bool torn_down)
{
    if (!t)
        return;
    if (t->state_fd >= 0) {
        if (torn_down)
            unlink(t->state_path);
        close(t->state_fd);
    }
    for (size_t i = 0; i < t->nlocks; i++)
        close(t->lock_fds[i]); /* releases the flock; the file stays (removing it would race) */
    free(t);
}

/* ---- clean ---- */

/* True when the lock of `name` is free (no live run holds it). */
static bool name_free(bool is_link, const char *name)
{
    char path[600];
    lock_path(path, sizeof path, is_link, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    bool free_ = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd); /* releases it again */
    return free_;
}

/* Removes what one state file lists; the file's lock is held by the caller. */
static int clean_one(const char *path, long pid, FILE *out, FILE *err, bool dry_run)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(err, "pktexpect clean: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[600];
    char scenario[520] = "?";
    int failed = 0;
    /* Two passes: links first (their namespace may hold them), then namespaces. */
    for (int pass = 0; pass < 2; pass++) {
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char a[300], b[300];
            char eb[PX_ERRBUF_SIZE] = "";
            int rc = 0;
            const char *what = NULL;
            if (pass == 0 && strncmp(line, "scenario ", 9) == 0) {
                snprintf(scenario, sizeof scenario, "%s", line + 9);
            } else if (pass == 0 && sscanf(line, "link %299s %299s", a, b) == 2) {
                const char *ns = strcmp(a, "-") ? a : NULL;
                if (!name_free(true, b) || (ns && !name_free(false, ns))) {
                    fprintf(err, "pktexpect clean: interface %s is in use by a live run: left\n", b);
                    failed = 1;
                    continue;
                }
                if ((ns && !px_topo_netns_exists(ns)) || !px_topo_link_exists(ns, b)) {
                    fprintf(out, "interface %s of run %ld: gone already\n", b, pid);
                    continue;
                }
                what = "interface";
                if (!dry_run)
                    rc = px_topo_link_del(ns, b, eb);
                fprintf(out, "%s interface %s%s%s (run %ld of %s)\n", dry_run ? "would remove" : "removed", b,
                        ns ? " in namespace " : "", ns ? ns : "", pid, scenario);
            } else if (pass == 1 && sscanf(line, "netns %299s", a) == 1) {
                if (!name_free(false, a)) {
                    fprintf(err, "pktexpect clean: namespace %s is in use by a live run: left\n", a);
                    failed = 1;
                    continue;
                }
                if (!px_topo_netns_exists(a)) {
                    fprintf(out, "namespace %s of run %ld: gone already\n", a, pid);
                    continue;
                }
                what = "namespace";
                if (!dry_run)
                    rc = px_topo_netns_del(a, eb);
                fprintf(out, "%s namespace %s (run %ld of %s)\n", dry_run ? "would remove" : "removed", a, pid,
                        scenario);
            }
            if (rc) {
                fprintf(err, "pktexpect clean: %s: %s\n", what, eb);
                failed = 1;
            }
        }
    }
    fclose(f);
    if (!failed && !dry_run)
        unlink(path);
    return failed;
}

int px_tstate_clean(FILE *out, FILE *err, bool dry_run)
{
    const char *dir = px_tstate_dir();
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) {
            fprintf(out, "nothing to clean (no run left state in %s)\n", dir);
            return 0;
        }
        fprintf(err, "pktexpect clean: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int failed = 0;
    size_t found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        char tail[16];
        if (sscanf(e->d_name, "run-%ld.stat%15s", &pid, tail) != 2 || strcmp(tail, "e") || pid <= 0)
            continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        /* Dead: nobody holds the file's lock and no process has its pid. */
        bool locked = flock(fd, LOCK_EX | LOCK_NB) < 0;
        bool pid_alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
        if (locked || (pid_alive && pid != (long)getpid())) {
            fprintf(out, "left run %ld: it is still running\n", pid);
            close(fd);
            continue;
        }
        found++;
        failed |= clean_one(path, pid, out, err, dry_run);
        close(fd);
    }
    closedir(d);
    if (!found)
        fprintf(out, "nothing to clean\n");
    return failed;
}
