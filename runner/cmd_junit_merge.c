/* pktexpect runner: the junit-merge command. See cmd_junit_merge.h. */
#include "cmd_junit_merge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_opt.h"
#include "pktexpect/error.h"
#include "report.h"
#include "run.h"

#define READ_CHUNK (1024u * 1024u)

static const char usage_merge[] =
    "usage: pktexpect junit-merge OUT IN...\n"
    "\n"
    "Merges the JUnit files written by `pktexpect run --junit` (e.g. one per CI\n"
    "shard) into OUT: test suites of the same name become one (counts summed, test\n"
    "cases in input order). Inputs must be regular files of at most 64 MiB.\n"
    "\n"
    "  -h, --help               this help\n"
    "Exit: 0 merged, 2 an input is refused, 3 OUT cannot be written, 130 interrupted\n"
    "(143 by SIGTERM).\n";

static bool stopped(const volatile sig_atomic_t *stop)
{
    return stop && *stop;
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* Reads a whole input into *text (NUL-terminated, caller frees). */
static int read_input(const char *path, const volatile sig_atomic_t *stop, char **text, px_buf *err)
{
    *text = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        px_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
        return PX_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        px_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
        close(fd);
        return PX_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        px_buf_printf(err, "cannot read '%s': it is %s; junit-merge reads regular files only", path,
                      kind_of(st.st_mode));
        close(fd);
        return PX_EINVAL;
    }
    if ((unsigned long long)st.st_size > PX_JUNIT_MERGE_MAX_INPUT) {
        px_buf_printf(err, "cannot read '%s': %lld bytes, more than the %u MiB a JUnit input may have", path,
                      (long long)st.st_size, PX_JUNIT_MERGE_MAX_INPUT >> 20);
        close(fd);
        return PX_ERANGE;
    }
    px_buf b = PX_BUF_INIT;
    char *chunk = malloc(READ_CHUNK);
    int rc = chunk ? 0 : PX_ENOMEM;
    while (rc == 0) {
        if (stopped(stop)) {
            rc = PX_ECANCELED;
            break;
        }
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            px_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
            rc = PX_EIO;
            break;
        }
        if (n == 0)
            break;
        /* The file may grow after fstat: the limit holds for what is read. */
        if (b.len + (size_t)n > PX_JUNIT_MERGE_MAX_INPUT) {
            px_buf_printf(err, "cannot read '%s': more than the %u MiB a JUnit input may have", path,
                          PX_JUNIT_MERGE_MAX_INPUT >> 20);
            rc = PX_ERANGE;
            break;
        }
        px_buf_append_n(&b, chunk, (size_t)n);
        if (b.oom)
            rc = PX_ENOMEM;
    }
    free(chunk);
    close(fd);
    if (rc == 0 && memchr(px_buf_cstr(&b), '\0', b.len)) {
        px_buf_printf(err, "'%s' is not a JUnit file: it holds NUL bytes", path);
        rc = PX_EFORMAT;
    }
    if (rc == PX_ENOMEM)
        px_buf_append(err, "out of memory");
    if (rc) {
        px_buf_free(&b);
        return rc;
    }
    *text = px_buf_steal(&b);
    if (!*text)
        *text = strdup("");
    if (!*text) {
        px_buf_append(err, "out of memory");
        return PX_ENOMEM;
    }
    return 0;
}

/* The value of attribute `name` in the start tag [tag, end): *len bytes, NULL if absent. */
static const char *tag_attr(const char *tag, const char *end, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = tag + 1; p + nl + 2 < end; p++) {
        if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r') && !strncmp(p, name, nl) &&
            p[nl] == '=' && p[nl + 1] == '"') {
            const char *v = p + nl + 2, *q = memchr(v, '"', (size_t)(end - v));
            if (!q)
                return NULL;
            *len = (size_t)(q - v);
            return v;
        }
    }
    return NULL;
}

static double tag_num(const char *tag, const char *end, const char *name)
{
    size_t len = 0;
    const char *v = tag_attr(tag, end, name, &len);
    return v ? strtod(v, NULL) : 0;
}

/* The next "<testsuite" start tag (not "<testsuites") at or after p. */
static const char *next_suite(const char *p)
{
    while ((p = strstr(p, "<testsuite")) != NULL) {
        char c = p[10];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/')
            return p;
        p += 10;
    }
    return NULL;
}

typedef struct suite {
    char *name;   /* the attribute as written (already XML-escaped) */
    double tests, failures, errors, skipped, time;
    px_buf body;  /* test cases, one per line group */
} suite;

typedef struct merge {
    suite *s;
    size_t n;
} merge;

static suite *find_suite(merge *m, const char *name, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->s[i].name) == len && !memcmp(m->s[i].name, name, len))
            return &m->s[i];
    suite *s = realloc(m->s, (m->n + 1) * sizeof *s);
    if (!s)
        return NULL;
    m->s = s;
    suite *x = &m->s[m->n];
    memset(x, 0, sizeof *x);
    x->name = strndup(name, len);
    if (!x->name)
        return NULL;
    x->body = (px_buf)PX_BUF_INIT;
    m->n++;
    return x;
}

static void merge_free(merge *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->s[i].name);
        px_buf_free(&m->s[i].body);
    }
    free(m->s);
}

/* Adds every <testsuite> of one input's text. */
static int merge_one(merge *m, const char *path, const char *text, px_buf *err)
{
    if (!strstr(text, "<testsuites")) {
        px_buf_printf(err, "'%s' is not a JUnit file: expected a <testsuites> element", path);
        return PX_EFORMAT;
    }
    const char *p = text, *start;
    while ((start = next_suite(p)) != NULL) {
        const char *tag_end = strchr(start, '>');
        if (!tag_end) {
            px_buf_printf(err, "'%s': unterminated <testsuite> tag", path);
            return PX_EFORMAT;
        }
        const char *inner = tag_end + 1, *inner_end = inner, *block_end;
        if (tag_end[-1] == '/') {
            block_end = inner;
        } else {
            const char *close = strstr(inner, "</testsuite>");
            if (!close) {
                px_buf_printf(err, "'%s': <testsuite> without </testsuite>", path);
                return PX_EFORMAT;
            }
            inner_end = close;
            block_end = close + strlen("</testsuite>");
        }
        size_t nlen = 0;
        const char *name = tag_attr(start, tag_end, "name", &nlen);
        suite *s = find_suite(m, name ? name : "", name ? nlen : 0);
        if (!s) {
            px_buf_append(err, "out of memory");
            return PX_ENOMEM;
        }
        s->tests += tag_num(start, tag_end, "tests");
        s->failures += tag_num(start, tag_end, "failures");
        s->errors += tag_num(start, tag_end, "errors");
        s->skipped += tag_num(start, tag_end, "skipped");
        s->time += tag_num(start, tag_end, "time");
        /* The test cases without the whitespace around them, re-indented. */
        while (inner < inner_end && strchr(" \t\r\n", *inner))
            inner++;
        while (inner_end > inner && strchr(" \t\r\n", inner_end[-1]))
            inner_end--;
        if (inner_end > inner) {
            px_buf_append(&s->body, "    ");
            px_buf_append_n(&s->body, inner, (size_t)(inner_end - inner));
            px_buf_append(&s->body, "\n");
        }
        p = block_end;
    }
    return 0;
}

int px_junit_merge_text(const char *const *in_paths, size_t n, const volatile sig_atomic_t *stop, px_buf *out,
                        px_buf *err)
{
    merge m = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *text = NULL;
        rc = read_input(in_paths[i], stop, &text, err);
        if (rc == 0)
            rc = merge_one(&m, in_paths[i], text, err);
        free(text);
    }
    if (rc == PX_ECANCELED)
        px_buf_append(err, "interrupted");
    if (rc) {
        merge_free(&m);
        return rc;
    }
    double tests = 0, failures = 0, errors = 0, skipped = 0, time = 0;
    bool oom = false;
    for (size_t i = 0; i < m.n; i++) {
        tests += m.s[i].tests;
        failures += m.s[i].failures;
        errors += m.s[i].errors;
        skipped += m.s[i].skipped;
        time += m.s[i].time;
        oom |= m.s[i].body.oom;
    }
    px_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pktexpect\" tests=\"%.0f\" "
                  "failures=\"%.0f\" errors=\"%.0f\" skipped=\"%.0f\" time=\"%.3f\">\n",
                  tests, failures, errors, skipped, time);
    for (size_t i = 0; i < m.n; i++) {
        const suite *s = &m.s[i];
        px_buf_printf(out,
                      "  <testsuite name=\"%s\" tests=\"%.0f\" failures=\"%.0f\" errors=\"%.0f\" skipped=\"%.0f\" "
                      "time=\"%.3f\">\n",
                      s->name, s->tests, s->failures, s->errors, s->skipped, s->time);
        px_buf_append(out, px_buf_cstr(&s->body));
        px_buf_append(out, "  </testsuite>\n");
    }
    px_buf_append(out, "</testsuites>\n");
    merge_free(&m);
    if (oom || out->oom) {
        px_buf_append(err, "out of memory");
        return PX_ENOMEM;
    }
    return 0;
}

int px_junit_merge(const char *out_path, const char *const *in_paths, size_t n, const volatile sig_atomic_t *stop,
                   px_buf *err)
{
    px_buf text = PX_BUF_INIT;
    int rc = px_junit_merge_text(in_paths, n, stop, &text, err);
    if (rc == 0)
        rc = px_report_write_file(out_path, px_buf_cstr(&text), text.len, err);
    px_buf_free(&text);
    return rc;
}

const px_cli_opt px_cli_merge_opts[] = {{"help", 'h', false, 'h'}, {NULL, 0, false, 0}};

int px_cli_junit_merge(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    int c;
    const char *val;
    px_cli_args a;
    px_cli_args_init(&a, "junit-merge", argc, argv, px_cli_merge_opts);
    while ((c = px_cli_next(&a, &val)) != PX_CLI_END) {
        if (c != 'h')
            return PX_EXIT_INVALID;
        fputs(usage_merge, stdout);
        return PX_EXIT_PASS;
    }
    if (a.nops < 2) {
        fputs(usage_merge, stderr);
        return PX_EXIT_INVALID;
    }
    px_buf text = PX_BUF_INIT, err = PX_BUF_INIT;
    int code = PX_EXIT_PASS;
    int rc = px_junit_merge_text((const char *const *)a.ops + 1, (size_t)(a.nops - 1), stop, &text, &err);
    if (rc == PX_ECANCELED)
        code = PX_RUN_INTERRUPTED;
    else if (rc == PX_ENOMEM)
        code = PX_EXIT_ENV;
    else if (rc)
        code = PX_EXIT_INVALID;
    else if (stopped(stop))
        code = PX_RUN_INTERRUPTED; /* nothing written after an interruption */
    else if (px_report_write_file(a.ops[0], px_buf_cstr(&text), text.len, &err))
        code = PX_EXIT_ENV;
    if (code != PX_EXIT_PASS)
        fprintf(stderr, "pktexpect junit-merge: %s\n", code == PX_RUN_INTERRUPTED ? "interrupted" : px_buf_cstr(&err));
    px_buf_free(&text);
    px_buf_free(&err);
    return code;
}
