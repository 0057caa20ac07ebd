/* Unit tests of the evidence directory of `run --pcap-dir` (runner/evidence_dir.c):
 *   names differing only in punctuation get different files     test_names_unique
 *   a very long test name still makes a short, creatable name   test_long_names_bounded
 *   an existing file or a planted link is never opened           test_never_overwrites_or_follows
 *   the directory is removed when this run created it and left
 *   it empty, kept otherwise                                     test_directory_removed_when_empty
 * No privileges needed: everything happens in a mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence_dir.h"
#include "pktexpect/error.h"
#include "px_proc.h"

static char tmpdir[256];

static int make_tmp(void **state)
{
    (void)state;
    return px_proc_tmpdir(tmpdir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
    (void)state;
    return px_proc_rmtree(tmpdir);
}

static void sub(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Creates the evidence of (suite, test) with one frame; returns its path. */
static char *create(const px_evdir *d, const char *suite, const char *test)
{
    px_evidence *ev = NULL;
    char *path = NULL;
    px_buf err = PX_BUF_INIT;
    int rc = px_evdir_create(d, suite, test, &ev, &path, &err);
    if (rc)
        print_error("%s\n", px_buf_cstr(&err));
    assert_int_equal(rc, 0);
    px_buf_free(&err);
    uint8_t b[60] = {0};
    assert_int_equal(px_evidence_write(ev, "p1", PX_DIR_IN, NULL, b, sizeof b, sizeof b), 0);
    assert_int_equal(px_evidence_close(ev), 0);
    return path;
}

static void test_names_unique(void **state)
{
    (void)state;
    char *a = px_evdir_name("s", "x y"), *b = px_evdir_name("s", "x_y"), *c = px_evdir_name("s-x", "y"),
         *d = px_evdir_name("s", "x-y");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a, b);
    assert_string_not_equal(c, d);
    assert_int_equal(strncmp(a, "s-x_y-", 6), 0); /* readable stem first */
    assert_non_null(strstr(a, ".pcapng"));
    /* The same names always give the same file name. */
    char *a2 = px_evdir_name("s", "x y");
    assert_string_equal(a, a2);
    free(a);
    free(a2);
    free(b);
    free(c);
    free(d);

    /* Both files exist side by side: one test's evidence never replaces the other's. */
    char dir[300];
    sub(dir, sizeof dir, "unique");
    px_evdir ed;
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_evdir_open(&ed, dir, &err), 0);
    char *p1 = create(&ed, "s", "x y"), *p2 = create(&ed, "s", "x_y");
    assert_string_not_equal(p1, p2);
    assert_int_equal(access(p1, F_OK), 0);
    assert_int_equal(access(p2, F_OK), 0);
    free(p1);
    free(p2);
    px_evdir_close(&ed);
    px_buf_free(&err);
}

static void test_long_names_bounded(void **state)
{
    (void)state;
    char longname[400];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char other[400];
    memcpy(other, longname, sizeof other);
    other[350] = 'm'; /* differs only past the cut */
    char *a = px_evdir_name("suite", longname), *b = px_evdir_name("suite", other);
    assert_true(strlen(a) < 255 - 8); /* room left for a "-N" suffix */
    assert_string_not_equal(a, b);
    free(a);
    free(b);

    char dir[300];
    sub(dir, sizeof dir, "long");
    px_evdir ed;
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_evdir_open(&ed, dir, &err), 0);
    char *p = create(&ed, "suite", longname);
    assert_int_equal(access(p, F_OK), 0);
    free(p);
    px_evdir_close(&ed);
    px_buf_free(&err);
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_never_overwrites_or_follows(void **state)
{
    (void)state;
    char dir[300], victim[300], first[600], link2[600];
    sub(dir, sizeof dir, "shared");
    sub(victim, sizeof victim, "victim.txt");
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("precious\n", f);
    fclose(f);
    px_evdir ed;
    px_buf err = PX_BUF_INIT;
    assert_int_equal(px_evdir_open(&ed, dir, &err), 0);

    /* Another user plants links under the names the next test will use. */
    char *name = px_evdir_name("s", "t");
    snprintf(first, sizeof first, "%s/%s", dir, name);
    assert_int_equal(symlink(victim, first), 0);
    char stem[300];
    snprintf(stem, sizeof stem, "%.*s", (int)(strlen(name) - strlen(".pcapng")), name);
    snprintf(link2, sizeof link2, "%s/%s-2.pcapng", dir, stem);
    assert_int_equal(symlink("/nonexistent-px-target", link2), 0); /* dangling */
    free(name);

    char *p = create(&ed, "s", "t");
    assert_string_not_equal(p, first);
    assert_string_not_equal(p, link2);
    assert_non_null(strstr(p, "-3.pcapng"));
    assert_string_equal(slurp(victim), "precious\n");
    struct stat st;
    assert_int_equal(lstat(first, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0022, 0); /* 0644 before the umask: never group/world-writable */
    assert_int_equal(access("/nonexistent-px-target", F_OK), -1);

    /* A second run into the same directory keeps the first run's file. */
    char *q = create(&ed, "s", "t");
    assert_string_not_equal(p, q);
    assert_non_null(strstr(q, "-4.pcapng"));
    free(p);
    free(q);
    px_evdir_close(&ed);
    px_buf_free(&err);
}

static void test_directory_removed_when_empty(void **state)
{
    (void)state;
    char dir[300];
    px_buf err = PX_BUF_INIT;
    px_evdir ed;

    /* Created by the run, nothing kept: removed. */
    sub(dir, sizeof dir, "made-empty");
    assert_int_equal(px_evdir_open(&ed, dir, &err), 0);
    assert_true(ed.created);
    px_evidence *ev = NULL;
    char *p = NULL;
    assert_int_equal(px_evdir_create(&ed, "s", "passes", &ev, &p, &err), 0);
    px_evidence_close(ev);
    unlink(p); /* a passing test's evidence is removed */
    free(p);
    px_evdir_close(&ed);
    assert_int_equal(access(dir, F_OK), -1);

    /* Created by the run, evidence kept: stays. */
    sub(dir, sizeof dir, "made-kept");
    assert_int_equal(px_evdir_open(&ed, dir, &err), 0);
    free(create(&ed, "s", "fails"));
    px_evdir_close(&ed);
    assert_int_equal(access(dir, F_OK), 0);

    /* There before the run, empty: the user's, so it stays. */
    sub(dir, sizeof dir, "users");
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(px_evdir_open(&ed, dir, &err), 0);
    assert_false(ed.created);
    px_evdir_close(&ed);
    assert_int_equal(access(dir, F_OK), 0);

    /* Not a directory, or not creatable: an error that says so. */
    char file[300];
    sub(file, sizeof file, "plain");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(px_evdir_open(&ed, file, &err) < 0);
    assert_non_null(strstr(px_buf_cstr(&err), "not a directory"));
    px_buf_clear(&err);
    sub(dir, sizeof dir, "no/such/parent");
    assert_true(px_evdir_open(&ed, dir, &err) < 0);
    assert_non_null(strstr(px_buf_cstr(&err), strerror(ENOENT)));
    px_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_unique),
        cmocka_unit_test(test_long_names_bounded),
        cmocka_unit_test(test_never_overwrites_or_follows),
        cmocka_unit_test(test_directory_removed_when_empty),
    };
    return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
