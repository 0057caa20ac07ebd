/* pktexpect runner: console, TAP and JUnit reports. See report.h. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktexpect/error.h"

static const char *const status_names[] = {"PASS", "FAIL", "ERROR", "SKIP"};

const char *px_tstatus_name(px_tstatus s)
{
    return (unsigned)s < 4 ? status_names[s] : "?";
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

int px_report_add(px_report *rep, const px_test_result *t)
{
    px_test_result *r = realloc(rep->r, (rep->n + 1) * sizeof *r);
    if (!r)
        return PX_ENOMEM;
    rep->r = r;
    bool oom = false;
    px_test_result c = *t;
    c.suite = dup_or_null(t->suite ? t->suite : "", &oom);
    c.name = dup_or_null(t->name ? t->name : "", &oom);
    c.file = dup_or_null(t->file, &oom);
    c.message = dup_or_null(t->message, &oom);
    c.details = dup_or_null(t->details, &oom);
    c.output = dup_or_null(t->output, &oom);
    c.pcap = dup_or_null(t->pcap, &oom);
    rep->r[rep->n++] = c;
    return oom ? PX_ENOMEM : 0;
}

void px_report_free(px_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        px_test_result *t = &rep->r[i];
        free((char *)t->suite);
        free((char *)t->name);
        free((char *)t->file);
        free((char *)t->message);
        free((char *)t->details);
        free((char *)t->output);
        free((char *)t->pcap);
    }
    free(rep->r);
    rep->r = NULL;
    rep->n = 0;
}

size_t px_report_count(const px_report *rep, px_tstatus s)
{
    size_t n = 0;
    for (size_t i = 0; i < rep->n; i++)
        n += rep->r[i].status == s;
    return n;
}

/* ---------------------------------------------------------------- console */

static const char *colour_of(px_tstatus s)
{
    switch (s) {
    case PX_T_PASS:
        return "\033[32m";
    case PX_T_FAIL:
        return "\033[31m";
    case PX_T_ERROR:
        return "\033[35m";
    default:
        return "\033[33m";
    }
}

/* Writes `text` with every line indented by `indent`. */
static void indented(FILE *out, const char *text, const char *indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "%s%.*s\n", indent, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* Like indented() but leaves out blank and whitespace-only lines (the blank line
 * that separates failure reports in the details). */
static void indented_lines(FILE *out, const char *text, const char *indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (strspn(p, " \t\r") < n)
            fprintf(out, "%s%.*s\n", indent, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* True when the one-line message is the headline of a report in `details`: the
 * details hold a line that starts with the message's place ("file:line: "), as
 * the runner writes a failed expectation. The console then prints the details
 * alone, so the predicate and its explanation appear once. */
static bool message_in_details(const char *message, const char *details)
{
    const char *c1 = strchr(message, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c2[1] != ' ' || c1 == message || strspn(c1 + 1, "0123456789") != (size_t)(c2 - c1 - 1))
        return false;
    size_t n = (size_t)(c2 - message) + 2; /* "file:line: " */
    for (const char *p = details; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, message, n))
            return true;
    return false;
}

void px_report_console_test(FILE *out, const px_test_result *t, size_t idx, size_t total, bool color)
{
    const char *c0 = color ? colour_of(t->status) : "", *c1 = color ? "\033[0m" : "";
    fprintf(out, "[%zu/%zu] %s%-5s%s %s: %s (%.2f s)\n", idx, total, c0, px_tstatus_name(t->status), c1, t->suite,
            t->name, t->seconds);
    if (t->status == PX_T_PASS)
        return;
    bool has_details = t->status != PX_T_SKIP && t->details && *t->details;
    if (t->message && *t->message && !(has_details && message_in_details(t->message, t->details)))
        indented(out, t->message, "      ");
    if (t->status == PX_T_SKIP)
        return;
    if (has_details)
        indented_lines(out, t->details, "      ");
    if (t->file)
        fprintf(out, "      at %s:%d\n", t->file, t->line);
    if (t->pcap)
        fprintf(out, "      evidence: %s\n", t->pcap);
}

void px_report_console_summary(FILE *out, const px_report *rep, double seconds, bool color)
{
    size_t pass = px_report_count(rep, PX_T_PASS), fail = px_report_count(rep, PX_T_FAIL),
           err = px_report_count(rep, PX_T_ERROR), skip = px_report_count(rep, PX_T_SKIP);
    const char *c0 = "", *c1 = "";
    if (color) {
        c0 = fail || err ? "\033[1;31m" : "\033[1;32m";
        c1 = "\033[0m";
    }
    fprintf(out, "%s%zu test%s: %zu passed, %zu failed, %zu errors, %zu skipped%s in %.2f s\n", c0, rep->n,
            rep->n == 1 ? "" : "s", pass, fail, err, skip, c1, seconds);
}

/* ---------------------------------------------------------------- TAP */

void px_report_tap_plan(FILE *out, size_t total)
{
    fprintf(out, "TAP version 13\n1..%zu\n", total);
}

/* TAP descriptions must not contain '#' (directive) or newlines. */
static void tap_desc(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == '#' ? '_' : (*s == '\n' || *s == '\r') ? ' ' : *s, out);
}

/* A YAML block scalar: every line indented. */
static void tap_block(FILE *out, const char *key, const char *text)
{
    fprintf(out, "  %s: |\n", key);
    indented(out, text, "    ");
}

void px_report_tap_test(FILE *out, const px_test_result *t, size_t idx)
{
    fprintf(out, "%s %zu - ", t->status == PX_T_PASS || t->status == PX_T_SKIP ? "ok" : "not ok", idx);
    tap_desc(out, t->suite);
    fputs(": ", out);
    tap_desc(out, t->name);
    if (t->status == PX_T_SKIP) {
        fputs(" # SKIP ", out);
        tap_desc(out, t->message ? t->message : "");
    }
    fputc('\n', out);
    if (t->status != PX_T_FAIL && t->status != PX_T_ERROR)
        return;
    fputs("  ---\n", out);
    fprintf(out, "  severity: %s\n", t->status == PX_T_FAIL ? "fail" : "error");
    if (t->message)
        tap_block(out, "message", t->message);
    if (t->details && *t->details)
        tap_block(out, "details", t->details);
    if (t->file)
        fprintf(out, "  at: \"%s:%d\"\n", t->file, t->line);
    if (t->pcap)
        fprintf(out, "  evidence: \"%s\"\n", t->pcap);
    fprintf(out, "  duration_s: %.3f\n", t->seconds);
    fputs("  ...\n", out);
}

/* ---------------------------------------------------------------- JUnit */

void px_xml_escape(px_buf *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '&':
            px_buf_append(out, "&amp;");
            break;
        case '<':
            px_buf_append(out, "&lt;");
            break;
        case '>':
            px_buf_append(out, "&gt;");
            break;
        case '"':
            px_buf_append(out, "&quot;");
            break;
        case '\'':
            px_buf_append(out, "&apos;");
            break;
        case '\t':
        case '\n':
        case '\r':
            px_buf_append_n(out, (const char *)p, 1);
            break;
        default:
            /* XML 1.0 forbids other control characters even as references. */
            if (*p < 0x20 || *p == 0x7f)
                px_buf_printf(out, "\\x%02x", *p);
            else
                px_buf_append_n(out, (const char *)p, 1);
        }
    }
}

static void attr(px_buf *b, const char *name, const char *value)
{
    px_buf_printf(b, " %s=\"", name);
    px_xml_escape(b, value ? value : "");
    px_buf_append(b, "\"");
}

static void junit_case(px_buf *b, const px_test_result *t)
{
    px_buf_append(b, "    <testcase");
    attr(b, "classname", t->suite);
    attr(b, "name", t->name);
    if (t->file) {
        attr(b, "file", t->file);
        px_buf_printf(b, " line=\"%d\"", t->line);
    }
    px_buf_printf(b, " time=\"%.3f\">\n", t->seconds);
    if (t->status == PX_T_FAIL || t->status == PX_T_ERROR) {
        const char *tag = t->status == PX_T_FAIL ? "failure" : "error";
        px_buf_printf(b, "      <%s", tag);
        attr(b, "message", t->message ? t->message : px_tstatus_name(t->status));
        attr(b, "type", px_tstatus_name(t->status));
        px_buf_append(b, ">");
        if (t->details)
            px_xml_escape(b, t->details);
        if (t->pcap) {
            px_buf_append(b, "\nevidence: ");
            px_xml_escape(b, t->pcap);
        }
        px_buf_printf(b, "</%s>\n", tag);
    } else if (t->status == PX_T_SKIP) {
        px_buf_append(b, "      <skipped");
        attr(b, "message", t->message ? t->message : "skipped");
        px_buf_append(b, "/>\n");
    }
    if (t->output && *t->output) {
        px_buf_append(b, "      <system-out>");
        px_xml_escape(b, t->output);
        px_buf_append(b, "</system-out>\n");
    }
    px_buf_append(b, "    </testcase>\n");
}

int px_report_write_junit(const px_report *rep, FILE *out)
{
    px_buf b = PX_BUF_INIT;
    double total_time = 0;
    for (size_t i = 0; i < rep->n; i++)
        total_time += rep->r[i].seconds;
    px_buf_append(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    px_buf_printf(&b, "<testsuites name=\"pktexpect\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
                      "time=\"%.3f\">\n",
                  rep->n, px_report_count(rep, PX_T_FAIL), px_report_count(rep, PX_T_ERROR),
                  px_report_count(rep, PX_T_SKIP), total_time);
    /* One testsuite per suite name, in order of first appearance. */
    bool *done = calloc(rep->n ? rep->n : 1, sizeof *done);
    if (!done) {
        px_buf_free(&b);
        return PX_ENOMEM;
    }
    for (size_t i = 0; i < rep->n; i++) {
        if (done[i])
            continue;
        const char *suite = rep->r[i].suite;
        size_t n = 0, f = 0, e = 0, s = 0;
        double time = 0;
        for (size_t j = i; j < rep->n; j++) {
            if (strcmp(rep->r[j].suite, suite))
                continue;
            n++;
            f += rep->r[j].status == PX_T_FAIL;
            e += rep->r[j].status == PX_T_ERROR;
            s += rep->r[j].status == PX_T_SKIP;
            time += rep->r[j].seconds;
        }
        px_buf_append(&b, "  <testsuite");
        attr(&b, "name", suite);
        px_buf_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", n, f, e,
                      s, time);
        for (size_t j = i; j < rep->n; j++) {
            if (strcmp(rep->r[j].suite, suite))
                continue;
            done[j] = true;
            junit_case(&b, &rep->r[j]);
        }
        px_buf_append(&b, "  </testsuite>\n");
    }
    px_buf_append(&b, "</testsuites>\n");
    free(done);
    int rc = 0;
    if (b.oom)
        rc = PX_ENOMEM;
    else if (fwrite(px_buf_cstr(&b), 1, b.len, out) != b.len)
        rc = PX_EIO;
    px_buf_free(&b);
    return rc;
}

/* Writes all of `data` to fd; 0 or an errno. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A device or FIFO named by the user (/dev/null, a named pipe): written in place.
 * O_NOFOLLOW: lstat saw no link, and none may appear in between. */
static int write_special(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = write_all(fd, data, len);
    if (close(fd) != 0 && !e && errno != EINTR)
        e = errno;
    return e;
}

int px_report_write_file(const char *path, const char *data, size_t len, px_buf *err)
{
    struct stat st;
    int e = 0;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            px_buf_printf(err, "cannot write '%s': it is a symbolic link (reports never follow links: name the "
                               "file itself)",
                          path);
            return PX_EIO;
        }
        if (S_ISDIR(st.st_mode)) {
            px_buf_printf(err, "cannot write '%s': %s", path, strerror(EISDIR));
            return PX_EIO;
        }
        if (!S_ISREG(st.st_mode)) {
            e = write_special(path, data, len);
            if (e) {
                px_buf_printf(err, "cannot write '%s': %s", path, strerror(e));
                return PX_EIO;
            }
            return 0;
        }
    } else if (errno != ENOENT) {
        px_buf_printf(err, "cannot write '%s': %s", path, strerror(errno));
        return PX_EIO;
    }
    /* A new file next to the target, renamed over it once complete: a failed
     * write leaves the previous report (or nothing), never a partial one, and
     * rename replaces a link planted meanwhile instead of following it. */
    px_buf tb = PX_BUF_INIT;
    px_buf_printf(&tb, "%s.XXXXXX", path);
    char *tmp = px_buf_steal(&tb);
    if (!tmp) {
        px_buf_printf(err, "cannot write '%s': out of memory", path);
        return PX_ENOMEM;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        px_buf_printf(err, "cannot write '%s': cannot create a temporary file next to it: %s", path,
                      strerror(errno));
        free(tmp);
        return PX_EIO;
    }
    e = write_all(fd, data, len);
    if (!e && fchmod(fd, 0644) != 0)
        e = errno;
    if (close(fd) != 0 && !e && errno != EINTR)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        px_buf_printf(err, "cannot write '%s': %s", path, strerror(e));
    }
    free(tmp);
    return e ? PX_EIO : 0;
}

int px_report_write_junit_file(const px_report *rep, const char *path, px_buf *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        px_buf_printf(err, "cannot write JUnit file '%s': out of memory", path);
        return PX_ENOMEM;
    }
    int rc = px_report_write_junit(rep, m);
    if (fclose(m) != 0 && rc == 0)
        rc = PX_ENOMEM;
    if (rc) {
        px_buf_printf(err, "cannot write JUnit file '%s': %s", path, px_strerror(rc));
        free(text);
        return rc;
    }
    px_buf why = PX_BUF_INIT;
    rc = px_report_write_file(path, text, len, &why);
    if (rc)
        px_buf_printf(err, "JUnit file: %s", px_buf_cstr(&why));
    px_buf_free(&why);
    free(text);
    return rc;
}
