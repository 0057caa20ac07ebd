/* Helpers of pktexpect's own tests (not installed): files of the source tree,
 * for the tests that compare the docs with the code.
 *
 * The tree is $PX_SOURCE_DIR (ctest sets it), else the directory this header
 * lies under, from its path at build time. Not thread-safe (static buffers).
 */
#ifndef PX_SRC_H
#define PX_SRC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The source tree (a static buffer). */
static inline const char *px_src_dir(void)
{
    static char dir[4096];
    const char *env = getenv("PX_SOURCE_DIR");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *cut = strstr(dir, "/tests/px_src.h");
    if (cut)
        *cut = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    return dir;
}

/* SRC/rel, in one of 8 static buffers used in turn (8 paths may be in use at once). */
static inline const char *px_src_path(const char *rel)
{
    static char p[8][4200];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", px_src_dir(), rel);
    return p[i];
}

/* The whole file SRC/rel, NUL-terminated, malloc'd (the caller frees it);
 * NULL when it cannot be read. */
static inline char *px_src_slurp(const char *rel)
{
    FILE *f = fopen(px_src_path(rel), "rb");
    if (!f)
        return NULL;
    char *s = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
        size_t got = fread(s, 1, (size_t)n, f);
        s[got] = '\0';
    }
    fclose(f);
    return s;
}

#endif
