/* pktexpect runner: loading predicate plugins (pktexpect/plugin.h,
 * px_plugins_* in pktexpect/runner.h).
 *
 * A plugin's px_plugin_init fills a registry of its own, not the caller's: the
 * loader can then refuse a clash whatever the plugin does with the return
 * code of px_registry_add, say whose name it clashes with, and add all of the
 * plugin's names or none. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pktexpect/plugin.h"
#include "pktexpect/runner.h"

typedef struct loaded {
    char *path;
    void *handle;
    const char **names; /* the plugin's own strings: valid while it is loaded */
    size_t nnames;
} loaded;

struct px_plugins {
    px_registry *reg;
    px_registry *builtins; /* to tell a clash with a built-in; made on first use */
    loaded *v;
    size_t n;
};

px_plugins *px_plugins_new(px_registry *reg)
{
    if (!reg)
        return NULL;
    px_plugins *pl = calloc(1, sizeof *pl);
    if (pl)
        pl->reg = reg;
    return pl;
}

size_t px_plugins_count(const px_plugins *pl) { return pl ? pl->n : 0; }

void px_plugins_free(px_plugins *pl)
{
    if (!pl)
        return;
    for (size_t i = pl->n; i-- > 0;) {
        dlclose(pl->v[i].handle);
        free(pl->v[i].names);
        free(pl->v[i].path);
    }
    free(pl->v);
    px_registry_free(pl->builtins);
    free(pl);
}

/* Who already has `name`: "a built-in", "plugin 'PATH'" or "the registry". */
static void owner_of(px_plugins *pl, const char *name, char *out, size_t cap)
{
    if (!pl->builtins)
        pl->builtins = px_registry_new();
    if (pl->builtins && px_registry_find(pl->builtins, name)) {
        snprintf(out, cap, "the built-in predicate of that name");
        return;
    }
    for (size_t i = 0; i < pl->n; i++)
        for (size_t j = 0; j < pl->v[i].nnames; j++)
            if (!strcmp(pl->v[i].names[j], name)) {
                snprintf(out, cap, "the predicate of plugin '%.200s'", pl->v[i].path);
                return;
            }
    snprintf(out, cap, "a predicate the program registered");
}

#define FAIL(code, ...)                                                                                          \
    do {                                                                                                         \
        rc = (code);                                                                                             \
        snprintf(errbuf, PX_ERRBUF_SIZE, __VA_ARGS__);                                                           \
        goto out;                                                                                                \
    } while (0)

int px_plugins_load(px_plugins *pl, const char *path, char *errbuf)
{
    int rc = 0;
    void *h = NULL;
    px_registry *own = NULL;
    char ieb[PX_ERRBUF_SIZE] = "";
    if (!pl || !path || !*path) {
        snprintf(errbuf, PX_ERRBUF_SIZE, "plugin '': no file given");
        return PX_EINVAL;
    }
    /* A path is checked first, for a plainer message than dlopen's; a bare
     * name is left to dlopen's search (LD_LIBRARY_PATH, the cache). */
    struct stat st;
    if (strchr(path, '/') && stat(path, &st) != 0)
        FAIL(PX_EIO, "plugin '%.200s': %s", path, strerror(errno));
    dlerror();
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        /* dlopen does not look in the current directory for a bare name. */
        char hint[160] = "";
        if (!strchr(path, '/') && stat(path, &st) == 0)
            snprintf(hint, sizeof hint, " (for the file in the current directory, write ./%.80s)", path);
        FAIL(PX_EFORMAT, "plugin '%.200s': cannot load it as a shared object: %.250s%s", path, why ? why : "?", hint);
    }
    const unsigned *abi = dlsym(h, PX_PLUGIN_ABI_SYMBOL);
    if (!abi)
        FAIL(PX_EFORMAT,
             "plugin '%.200s': no symbol " PX_PLUGIN_ABI_SYMBOL ": not a pktexpect plugin (its source needs "
             "PX_PLUGIN_DECLARE_ABI; of pktexpect/plugin.h)",
             path);
    if (*abi != PX_PLUGIN_ABI)
        FAIL(PX_ENOTSUP,
             "plugin '%.200s': built for plugin ABI %u, this pktexpect loads ABI %u: rebuild it against this "
             "version's headers",
             path, *abi, PX_PLUGIN_ABI);
    px_plugin_init_fn *init;
    /* POSIX's way to turn dlsym's object pointer into a function pointer. */
    *(void **)(&init) = dlsym(h, PX_PLUGIN_INIT_SYMBOL);
    if (!init)
        FAIL(PX_EFORMAT, "plugin '%.200s': no function " PX_PLUGIN_INIT_SYMBOL "(px_registry *, char *errbuf)",
             path);
    own = px_registry_new_empty();
    if (!own)
        FAIL(PX_ENOMEM, "plugin '%.200s': out of memory", path);
    int irc = init(own, ieb);
    if (irc != 0) {
        ieb[PX_ERRBUF_SIZE - 1] = '\0';
        FAIL(irc < 0 ? irc : PX_EINVAL, "plugin '%.200s': " PX_PLUGIN_INIT_SYMBOL " failed: %.250s", path,
             ieb[0] ? ieb : px_strerror(irc < 0 ? irc : PX_EINVAL));
    }
    size_t n = px_registry_count(own);
    if (n == 0)
        FAIL(PX_EINVAL, "plugin '%.200s': " PX_PLUGIN_INIT_SYMBOL " registered no predicate", path);
    /* Every name first, so that a clash adds none. */
    for (size_t i = 0; i < n; i++) {
        const char *name = px_registry_get(own, i)->name;
        if (px_registry_find(pl->reg, name)) {
            char who[300];
            owner_of(pl, name, who, sizeof who);
            FAIL(PX_EEXIST, "plugin '%.200s': predicate '%s' clashes with %s: rename one of them", path, name, who);
        }
    }
    loaded *v = realloc(pl->v, (pl->n + 1) * sizeof *v);
    if (!v)
        FAIL(PX_ENOMEM, "plugin '%.200s': out of memory", path);
    pl->v = v;
    loaded *l = &pl->v[pl->n];
    memset(l, 0, sizeof *l);
    l->path = strdup(path);
    l->names = calloc(n, sizeof *l->names);
    if (!l->path || !l->names) {
        free(l->path);
        free(l->names);
        FAIL(PX_ENOMEM, "plugin '%.200s': out of memory", path);
    }
    /* From here the plugin is the set's: a name added to the registry keeps it
     * loaded, even when out of memory stops the adding half-way. */
    l->handle = h;
    h = NULL;
    pl->n++;
    for (size_t i = 0; i < n; i++) {
        const px_expr_def *d = px_registry_get(own, i);
        if ((rc = px_registry_add(pl->reg, d, ieb)) != 0)
            FAIL(rc, "plugin '%.200s': %.250s", path, ieb);
        l->names[l->nnames++] = d->name;
    }
out:
    px_registry_free(own);
    if (h)
        dlclose(h);
    return rc;
}
