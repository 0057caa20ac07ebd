/* Unit tests of the bounds on untrusted sizes: scenario files and their includes
 * (special files, size, nesting, variable expansion, quoting, what errors echo),
 * values validate checks before run (BPF filters, pcap files, frame sizes,
 * interface names), the frame text form's layer count and the growth of long
 * lists. No privileges: files go to a fresh temporary directory, nothing touches
 * the network.
 *
 * Each test arms alarm() as a safety net: the inputs here used to take from
 * seconds to minutes (or block for ever on a FIFO); bounded, they take
 * milliseconds, and a generous alarm turns a regression into a failure instead
 * of a hang. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pktexpect/expr.h"
#include "pktexpect/predicate.h"
#include "pktexpect/text.h"
#include "run.h"
#include "scenario.h"

#define SAFETY_NET_S 20

/* ------------------------------------------------------------ realloc count */

/* Counts the realloc calls of the code under test (the executable's realloc
 * takes precedence over the C library's for the whole process), to check that
 * lists grow geometrically: one realloc per element made long lists quadratic.
 * Not under AddressSanitizer, which brings its own allocator. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define PX_NO_REALLOC_COUNT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PX_NO_REALLOC_COUNT 1
#endif

#ifndef PX_NO_REALLOC_COUNT
extern void *__libc_realloc(void *p, size_t n);
static size_t realloc_calls;
void *realloc(void *p, size_t n)
{
    realloc_calls++;
    return __libc_realloc(p, n);
}
#endif

/* ------------------------------------------------------------ helpers */

static char dir[64];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.40s/pxlim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    alarm(SAFETY_NET_S);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/name, in a static buffer of the caller's choice. */
static const char *in_dir(char out[256], const char *name)
{
    snprintf(out, 256, "%s/%s", dir, name);
    return out;
}

static void write_n(const char *name, const char *text, size_t len)
{
    char p[256];
    FILE *f = fopen(in_dir(p, name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_file(const char *name, const char *text)
{
    write_n(name, text, strlen(text));
}

/* Loads dir/name with the runner's checkers; errors in *errs (cleared first). */
static int load(const char *name, const px_scn_var *vars, size_t nvars, px_scenario **s, px_buf *errs)
{
    char p[256];
    px_buf_clear(errs);
    *s = NULL;
    return px_scenario_load(in_dir(p, name), px_run_checkers(), vars, nvars, s, errs);
}

static void assert_error(int rc, const px_buf *errs, const char *want)
{
    if (rc == 0 || !strstr(px_buf_cstr(errs), want))
        fail_msg("rc %d, wanted an error with \"%s\", got:\n%s", rc, want, px_buf_cstr(errs));
}

/* A scenario with one veth pair and one test running `steps` (YAML flow list items). */
static char *scenario_with(const char *steps)
{
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b,
                  "topology:\n"
                  "  veths: [ { name: pxl-a, peer: pxl-b } ]\n"
                  "tests:\n"
                  "  - name: t\n"
                  "    steps:\n"
                  "%s",
                  steps);
    return px_buf_steal(&b);
}

/* ------------------------------------------------------------ includes, files */

/* The same file under other spellings is the same file: a cycle, reported at
 * once. Compared by string, ten spellings per level made 10^7 loads. */
static void test_include_spellings_are_one_file(void **state)
{
    (void)state;
    write_file("f.yaml", "include: [ f.yaml, ./f.yaml, .//f.yaml, ././f.yaml, .///f.yaml, ./././f.yaml,\n"
                         "           .//./f.yaml, ././/f.yaml, .////f.yaml, ././/f.yaml ]\n"
                         "tests: []\n");
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("f.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "includes itself (include cycle)");
    assert_null(strstr(px_buf_cstr(&errs), "levels of includes"));

    /* Through another file and a sub-directory spelling, too. */
    char p[256];
    assert_int_equal(mkdir(in_dir(p, "sub"), 0700), 0);
    write_file("a.yaml", "include: sub/../b.yaml\ntests: []\n");
    write_file("b.yaml", "include: [ ./a.yaml ]\n");
    rc = load("a.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "b.yaml:1:10: include: './a.yaml' includes itself (include cycle)");

    /* No cycle, but a tree: each file includes the next one ten times, 10^7
     * loads unless the number of files loaded is bounded. */
    for (int i = 0; i < 8; i++) {
        char name[32], next[32], text[256];
        snprintf(name, sizeof name, "t%d.yaml", i);
        snprintf(next, sizeof next, "t%d.yaml", i + 1);
        snprintf(text, sizeof text, "include: [ %s, %s, %s, %s, %s, %s, %s, %s, %s, %s ]\n", next, next, next, next,
                 next, next, next, next, next, next);
        write_file(name, i < 7 ? text : "variables: { x: 1 }\n");
    }
    rc = load("t0.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "include: more than 256 files in all");
    px_buf_free(&errs);
}

/* A FIFO blocks in open() and a device may never end: refused before any read,
 * as the scenario itself and as an include; a directory too. */
static void test_special_files_refused(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(mkfifo(in_dir(p, "fifo.yaml"), 0600), 0);
    assert_int_equal(mkdir(in_dir(p, "d.yaml"), 0700), 0);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;

    int rc = load("fifo.yaml", NULL, 0, &s, &errs);
    assert_int_equal(rc, PX_EIO);
    assert_error(rc, &errs, "fifo.yaml: cannot open: not a regular file");

    write_file("inc.yaml", "include: [ fifo.yaml, d.yaml ]\ntests: []\n");
    rc = load("inc.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "fifo.yaml: cannot open: not a regular file");
    assert_error(rc, &errs, "d.yaml: cannot open: a directory, not a regular file");
    px_buf_free(&errs);
}

/* Every file is bounded, and so are all of them together: includes may repeat
 * a file, each repetition read and parsed again. */
static void test_total_size_bounded(void **state)
{
    (void)state;
    /* 3 MiB of comment: under the limit of one file. */
    size_t big = 3u << 20;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ' ', big);
    memcpy(text, "tests: [] #", 11);
    text[big - 1] = '\n';
    write_n("big.yaml", text, big);
    free(text);
    write_file("one.yaml", "include: big.yaml\ntests: []\n");
    write_file("six.yaml", "include: [ big.yaml, big.yaml, big.yaml, big.yaml, big.yaml, big.yaml ]\ntests: []\n");
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("one.yaml", NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    px_scenario_free(s);
    rc = load("six.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "the scenario and its includes are larger than 16777216 bytes in all");

    /* One file over 4 MiB: its size in the message, without reading it. */
    char p[256];
    int fd = open(in_dir(p, "huge.yaml"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 30), 0);
    close(fd);
    rc = load("huge.yaml", NULL, 0, &s, &errs);
    assert_int_equal(rc, PX_EIO);
    assert_error(rc, &errs, "file larger than 4194304 bytes (1073741824 bytes)");
    px_buf_free(&errs);
}

/* Nesting is bounded before libyaml builds the document (its cost grows with
 * the square of the depth: 40 000 levels took 13 s), flow and block style. */
static void test_deep_nesting_refused(void **state)
{
    (void)state;
    size_t n = 40000;
    px_buf b = PX_BUF_INIT;
    px_buf_append(&b, "tests: ");
    for (size_t i = 0; i < n; i++)
        px_buf_append(&b, "[");
    for (size_t i = 0; i < n; i++)
        px_buf_append(&b, "]");
    px_buf_append(&b, "\n");
    write_file("flow.yaml", px_buf_cstr(&b));
    px_buf_clear(&b);
    px_buf_append(&b, "tests:\n  ");
    for (size_t i = 0; i < n; i++)
        px_buf_append(&b, "- ");
    px_buf_append(&b, "x\n");
    write_file("block.yaml", px_buf_cstr(&b));
    px_buf_free(&b);

    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("flow.yaml", NULL, 0, &s, &errs);
    /* The 64th '[' is level 65 (the top mapping is level 1), at column 8 + 63. */
    assert_error(rc, &errs, "flow.yaml:1:71: nested too deeply: more than 64 levels of lists and mappings");
    rc = load("block.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "nested too deeply: more than 64 levels of lists and mappings");

    /* An ordinary depth still loads. */
    write_file("ok.yaml", "tests: [ { name: t, skip: true, steps: [ [ [ [ [ [ [ [ 1 ] ] ] ] ] ] ] ] } ]\n");
    rc = load("ok.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "a step is a mapping with one key");
    px_buf_free(&errs);
}

/* ------------------------------------------------------------ variables */

static void test_expansion_bounded(void **state)
{
    (void)state;
    /* One value over 64 KiB once expanded. */
    size_t vlen = 40000;
    char *v = malloc(vlen + 1);
    assert_non_null(v);
    memset(v, 'x', vlen);
    v[vlen] = '\0';
    px_scn_var var = {"big", v};
    char *text = scenario_with("      - exec: \"echo ${big}${big}\"\n");
    write_file("one.yaml", text);
    free(text);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("one.yaml", &var, 1, &s, &errs);
    assert_error(rc, &errs, "one.yaml:6:15: value longer than 65536 bytes once variables are expanded");
    /* Under the bound it loads. */
    var.value = "short";
    rc = load("one.yaml", &var, 1, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, "echo shortshort");
    px_scenario_free(s);

    /* Many values each under the bound: 500 x 40 000 bytes is over 16 MiB in all. */
    var.value = v;
    px_buf b = PX_BUF_INIT;
    for (int i = 0; i < 500; i++)
        px_buf_append(&b, "      - exec: \"${big}\"\n");
    text = scenario_with(px_buf_cstr(&b));
    px_buf_free(&b);
    write_file("many.yaml", text);
    free(text);
    rc = load("many.yaml", &var, 1, &s, &errs);
    assert_error(rc, &errs, "variables expand to more than 16777216 bytes in all");
    free(v);
    px_buf_free(&errs);
}

/* ${name:q} quotes the value for /bin/sh, whatever it holds. */
static void test_var_shell_quoting(void **state)
{
    (void)state;
    char *text = scenario_with("      - exec: \"echo ${x:q} ${x}\"\n"
                               "      - exec: \"echo ${y:q}\"\n");
    write_file("q.yaml", text);
    free(text);
    px_scn_var vars[] = {{"x", "1; touch it'here"}, {"y", ""}};
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("q.yaml", vars, 2, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, "echo '1; touch it'\\''here' 1; touch it'here");
    assert_string_equal(s->tests[0].steps[1].cmd.run, "echo ''");
    px_scenario_free(s);

    text = scenario_with("      - exec: \"echo ${x:z}\"\n");
    write_file("bad.yaml", text);
    free(text);
    rc = load("bad.yaml", vars, 2, &s, &errs);
    assert_error(rc, &errs, "'x:z' is not a variable name");
    px_buf_free(&errs);
}

/* A scenario whose `variables:` are `vars` (flow mapping entries) and whose one
 * test runs `steps`. */
static char *scenario_vars(const char *vars, const char *steps)
{
    char *body = scenario_with(steps);
    px_buf b = PX_BUF_INIT;
    px_buf_printf(&b, "variables: { %s }\n%s", vars, body);
    free(body);
    return px_buf_steal(&b);
}

/* Values may use variables, in any order, quoted or not; --var applies inside. */
static void test_vars_use_vars(void **state)
{
    (void)state;
    char *text = scenario_vars("a: 'x${b}y', b: '${c}-${c}', lit: '$${HOME}', c: z",
                               "      - exec: \"echo ${a} ${a:q} ${lit}\"\n");
    write_file("vv.yaml", text);
    free(text);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("vv.yaml", NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, "echo xz-zy 'xz-zy' ${HOME}");
    px_scenario_free(s);
    px_scn_var c = {"c", "it's"};
    rc = load("vv.yaml", &c, 1, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, "echo xit's-it'sy 'xit'\\''s-it'\\''sy' ${HOME}");
    px_scenario_free(s);
    px_buf_free(&errs);
}

/* Cycles, unknown names inside values, depth and the total work are errors. */
static void test_vars_use_vars_bounded(void **state)
{
    (void)state;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    char *text = scenario_vars("a: '${b}', b: 'x${a}'", "      - exec: \"echo ${a}\"\n");
    write_file("cyc.yaml", text);
    free(text);
    assert_error(load("cyc.yaml", NULL, 0, &s, &errs), &errs,
                 "variable cycle: ${a} -> ${b} -> ${a}: a variable's value cannot use itself");
    text = scenario_vars("a: 'x${a}'", "      - exec: \"echo ${a:q}\"\n");
    write_file("self.yaml", text);
    free(text);
    assert_error(load("self.yaml", NULL, 0, &s, &errs), &errs, "variable cycle: ${a} -> ${a}");
    text = scenario_vars("a: '${b}', b: '${nope}'", "      - exec: \"echo ${a}\"\n");
    write_file("unk.yaml", text);
    free(text);
    assert_error(load("unk.yaml", NULL, 0, &s, &errs), &errs,
                 "unknown variable '${nope}' (in the value of ${b}, used by ${a})");

    /* a chain deeper than 16 */
    px_buf v = PX_BUF_INIT;
    for (int i = 0; i < 20; i++)
        px_buf_printf(&v, "v%d: 'x${v%d}', ", i, i + 1);
    px_buf_append(&v, "v20: end");
    text = scenario_vars(px_buf_cstr(&v), "      - exec: \"echo ${v0}\"\n");
    px_buf_free(&v);
    write_file("deep.yaml", text);
    free(text);
    assert_error(load("deep.yaml", NULL, 0, &s, &errs), &errs, "variables use variables more than 16 levels deep");
    /* 16 levels load */
    px_buf_clear(&v);
    for (int i = 0; i < 15; i++)
        px_buf_printf(&v, "v%d: 'x${v%d}', ", i, i + 1);
    px_buf_append(&v, "v15: end");
    text = scenario_vars(px_buf_cstr(&v), "      - exec: \"echo ${v0}\"\n");
    px_buf_free(&v);
    write_file("deep16.yaml", text);
    free(text);
    int rc = load("deep16.yaml", NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, "echo xxxxxxxxxxxxxxxend");
    px_scenario_free(s);

    /* Empty values expand to nothing, so only a count bounds the work: 1100 uses of
     * b, each using c 1100 times, is over a million references. */
    px_buf_clear(&v);
    px_buf_append(&v, "e: '', c: '${e}', b: '");
    for (int i = 0; i < 1100; i++)
        px_buf_append(&v, "${c}");
    px_buf_append(&v, "', a: '");
    for (int i = 0; i < 1100; i++)
        px_buf_append(&v, "${b}");
    px_buf_append(&v, "'");
    text = scenario_vars(px_buf_cstr(&v), "      - exec: \"echo ${a}\"\n");
    px_buf_free(&v);
    write_file("work.yaml", text);
    free(text);
    assert_error(load("work.yaml", NULL, 0, &s, &errs), &errs,
                 "more than 1048576 variables expanded inside variables' values in all");
    px_buf_free(&errs);
}

/* ${scenario_dir}: the absolute directory of the scenario file, whatever the
 * working directory; a variable or --var of that name overrides it. */
static void test_scenario_dir(void **state)
{
    (void)state;
    char *text = scenario_with("      - exec: \"cd ${scenario_dir:q} && ls\"\n");
    write_file("sd.yaml", text);
    free(text);
    char real[PATH_MAX], want[PATH_MAX + 32], cwd[PATH_MAX];
    assert_non_null(realpath(dir, real));
    snprintf(want, sizeof want, "cd '%s' && ls", real);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("sd.yaml", NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, want);
    px_scenario_free(s);
    /* a relative path, from the file's directory and from its parent */
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    rc = px_scenario_load("sd.yaml", px_run_checkers(), NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, want);
    px_scenario_free(s);
    assert_int_equal(chdir(".."), 0);
    char rel[PATH_MAX];
    const char *base = strrchr(dir, '/');
    snprintf(rel, sizeof rel, "%s/sd.yaml", base ? base + 1 : dir);
    rc = px_scenario_load(rel, px_run_checkers(), NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, want);
    px_scenario_free(s);
    assert_int_equal(chdir(cwd), 0);
    /* --var overrides it */
    px_scn_var o = {"scenario_dir", "/elsewhere"};
    rc = load("sd.yaml", &o, 1, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_string_equal(s->tests[0].steps[0].cmd.run, "cd '/elsewhere' && ls");
    px_scenario_free(s);
    px_buf_free(&errs);
}

/* ------------------------------------------------------------ what errors echo */

/* Including a file that is not a scenario must not print its content: the
 * unknown key's name is cut to 32 printable characters. */
static void test_unknown_key_not_echoed(void **state)
{
    (void)state;
    write_file("secret", "root_secret_0123456789abcdefghijklmnopqrstuvwxyz_more_secret: 1\n"
                         "tab\there: 2\n");
    write_file("inc.yaml", "include: secret\ntests: []\n");
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("inc.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "secret:1:1: unknown key 'root_secret_0123456789abcdefghij...' in an included file");
    assert_error(rc, &errs, "secret:2:1: unknown key 'tab?here' in an included file");
    assert_null(strstr(px_buf_cstr(&errs), "more_secret"));
    px_buf_free(&errs);
}

/* ------------------------------------------------------------ checks of validate */

/* A filter is compiled at validation, with file:line:col, and bounded in size
 * and clauses (pcap_compile takes seconds for a few hundred). */
static void test_filter_checked(void **state)
{
    (void)state;
    char *text = scenario_with("      - expect: { port: pxl-b, predicate: \"count() >= 1\", filter: \"udp prot 53\" }\n");
    write_file("bad.yaml", text);
    free(text);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("bad.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "bad.yaml:6:67: filter: not a valid BPF filter: ");

    px_buf f = PX_BUF_INIT;
    for (int i = 1; i <= 300; i++)
        px_buf_printf(&f, "%sport %d", i > 1 ? " or " : "", i);
    px_buf steps = PX_BUF_INIT;
    px_buf_printf(&steps, "      - expect: { port: pxl-b, predicate: \"count() >= 1\", filter: \"%s\" }\n",
                  px_buf_cstr(&f));
    text = scenario_with(px_buf_cstr(&steps));
    write_file("long.yaml", text);
    free(text);
    rc = load("long.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "filter: longer than 1024 characters");

    px_buf_clear(&f);
    for (int i = 1; i <= 70; i++)
        px_buf_printf(&f, "%sport %d", i > 1 ? "||" : "", i);
    px_buf_clear(&steps);
    px_buf_printf(&steps, "      - expect: { port: pxl-b, predicate: \"count() >= 1\", filter: \"%s\" }\n",
                  px_buf_cstr(&f));
    text = scenario_with(px_buf_cstr(&steps));
    write_file("ops.yaml", text);
    free(text);
    rc = load("ops.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "filter: more than 64 'and', 'or' and 'not' (69)");

    /* The same bounds for bpf("...") in a predicate. */
    px_buf_clear(&f);
    px_buf_append(&f, "bpf(\"");
    for (int i = 1; i <= 300; i++)
        px_buf_printf(&f, "%sport %d", i > 1 ? " or " : "", i);
    px_buf_append(&f, "\")");
    px_predicate *p = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    rc = px_expr_parse(NULL, px_buf_cstr(&f), &p, &e);
    assert_int_not_equal(rc, 0);
    if (!strstr(e.message, "bpf filter: longer than 1024 characters (3488)"))
        fail_msg("%s", e.message);

    text = scenario_with("      - expect: { port: pxl-b, predicate: \"count() >= 1\", filter: \"udp port 53 and not "
                         "icmp6\" }\n");
    write_file("good.yaml", text);
    free(text);
    rc = load("good.yaml", NULL, 0, &s, &errs);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    px_scenario_free(s);
    px_buf_free(&f);
    px_buf_free(&steps);
    px_buf_free(&errs);
}

/* pcap: a regular file that starts as a capture. */
static void test_pcap_checked(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(mkdir(in_dir(p, "adir"), 0700), 0);
    write_file("text.pcap", "not a capture at all\n");
    /* A pcap file header (little endian, microseconds), no packets; and a pcapng start. */
    static const unsigned char hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                          0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    write_n("ok.pcap", (const char *)hdr, sizeof hdr);
    write_n("ok.pcapng", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", 8);
    char *text = scenario_with("      - send: { port: pxl-a, pcap: adir }\n"
                               "      - send: { port: pxl-a, pcap: text.pcap }\n"
                               "      - send: { port: pxl-a, pcap: ok.pcap }\n"
                               "      - send: { port: pxl-a, pcap: ok.pcapng }\n");
    write_file("p.yaml", text);
    free(text);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("p.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "p.yaml:6:36: pcap: cannot read '");
    assert_error(rc, &errs, "/adir': a directory, not a regular file");
    assert_error(rc, &errs, "/text.pcap' is not a pcap or pcapng capture");
    /* Exactly those two errors. */
    const char *e = px_buf_cstr(&errs);
    size_t lines = 0;
    for (; *e; e++)
        lines += *e == '\n';
    assert_int_equal(lines, 2);
    px_buf_free(&errs);
}

/* Frames over 65535 bytes (no capture could hold them) and interface names
 * with '%' (a kernel name template) or over 15 characters are refused. */
static void test_frame_size_and_ifname(void **state)
{
    (void)state;
    px_buf b = PX_BUF_INIT;
    px_buf_append(&b, "      - send: { port: pxl-a, hex: \"");
    for (int i = 0; i < 65536; i++)
        px_buf_append(&b, "ab");
    px_buf_append(&b, "\" }\n");
    px_buf_append(&b, "      - send: { port: pxl-a, frame: 'Ether()/Raw(\"");
    for (int i = 0; i < 70000; i++)
        px_buf_append(&b, "x");
    px_buf_append(&b, "\")' }\n");
    char *text = scenario_with(px_buf_cstr(&b));
    px_buf_free(&b);
    write_file("big.yaml", text);
    free(text);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s;
    int rc = load("big.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "big.yaml:6:35: hex: 65536 bytes, more than the 65535 a frame can have");
    assert_error(rc, &errs, "big.yaml:7:37: frame: 70014 bytes, more than the 65535 a frame can have");

    write_file("pct.yaml", "topology:\n  veths: [ { name: 'pxl%d', peer: pxl-b } ]\ntests: []\n");
    rc = load("pct.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "pct.yaml:2:20: name: 'pxl%d' is not an interface name");
    write_file("long.yaml", "topology:\n  veths: [ { name: pxl-a, peer: pxl-0123456789ab } ]\ntests: []\n");
    rc = load("long.yaml", NULL, 0, &s, &errs);
    assert_error(rc, &errs, "long.yaml:2:33: peer: 'pxl-0123456789ab' is not an interface name: expected 1 to 15");
    px_buf_free(&errs);
}

/* ------------------------------------------------------------ text form, lists */

static void test_frame_text_layers(void **state)
{
    (void)state;
    px_buf b = PX_BUF_INIT;
    px_buf_append(&b, "Ether()");
    for (int i = 0; i < 100000; i++)
        px_buf_append(&b, "/Raw(\"x\")");
    char eb[PX_ERRBUF_SIZE] = "";
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = px_frame_parse_text(px_buf_cstr(&b), &bytes, &len, eb);
    assert_int_equal(rc, PX_EPARSE);
    /* Layer 65 starts after "Ether()" and 63 "/Raw(\"x\")" (9 characters each), past its '/'. */
    assert_string_equal(eb, "col 576: more than 64 layers");

    /* 64 layers are fine. */
    px_buf_clear(&b);
    px_buf_append(&b, "Ether()");
    for (int i = 0; i < 63; i++)
        px_buf_append(&b, "/Raw(\"x\")");
    rc = px_frame_parse_text(px_buf_cstr(&b), &bytes, &len, eb);
    if (rc)
        fail_msg("%s", eb);
    assert_int_equal(len, 14 + 63);
    free(bytes);
    px_buf_free(&b);
}

/* any_of() with 10 000 arguments, and a scenario with 10 000 steps: a handful
 * of reallocs each, not one per element. */
static void test_lists_grow_geometrically(void **state)
{
    (void)state;
#ifdef PX_NO_REALLOC_COUNT
    skip();
#else
    px_buf b = PX_BUF_INIT;
    px_buf_append(&b, "any_of(");
    for (int i = 0; i < 10000; i++)
        px_buf_printf(&b, "%ssaw_vlan_tag(%d)", i ? ", " : "", i % 4095 + 1);
    px_buf_append(&b, ")");
    px_predicate *p = NULL;
    px_expr_error e;
    memset(&e, 0, sizeof e);
    size_t before = realloc_calls;
    int rc = px_expr_parse(NULL, px_buf_cstr(&b), &p, &e);
    size_t calls = realloc_calls - before;
    if (rc)
        fail_msg("%s", e.message);
    px_predicate_free(p);
    if (calls > 200)
        fail_msg("any_of with 10000 arguments: %zu reallocs", calls);

    px_buf_clear(&b);
    for (int i = 0; i < 10000; i++)
        px_buf_append(&b, "      - sleep: 1ms\n");
    char *text = scenario_with(px_buf_cstr(&b));
    px_buf_free(&b);
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    before = realloc_calls;
    rc = px_scenario_load_string("t.yaml", text, strlen(text), NULL, NULL, 0, &s, &errs);
    calls = realloc_calls - before;
    free(text);
    if (rc)
        fail_msg("%s", px_buf_cstr(&errs));
    assert_int_equal(s->tests[0].nsteps, 10000);
    px_scenario_free(s);
    px_buf_free(&errs);
    /* libyaml's own stacks double too; one per step would be 10 000 more. */
    if (calls > 1000)
        fail_msg("a scenario with 10000 steps: %zu reallocs", calls);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_include_spellings_are_one_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_size_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expansion_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_var_shell_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vars_use_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vars_use_vars_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scenario_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_not_echoed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcap_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_size_and_ifname, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_text_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_grow_geometrically, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
