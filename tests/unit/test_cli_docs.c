/* docs/cli.md against the command line itself, both ways:
 *
 *   every option a command accepts (its table in the code, px_cli_commands())
 *   is in the option table of the command's section of docs/cli.md, and in
 *   the command's --help                              test_every_option_documented
 *   every option the page's tables document exists    test_every_documented_option_exists
 *
 * A section is a level-2 heading named after the command ("## run"; "## Options"
 * for the options before a command); its option tables are the rows that start
 * with "| `", whose first cell names the option ("`-f, --filter PATTERN`"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opt.h"
#include "px_src.h"

#define MAX_DOC_OPTS 64

typedef struct doc_section {
    char name[32];                     /* command name */
    char opts[MAX_DOC_OPTS][40];       /* "--filter", "-f" */
    int nopts;
} doc_section;

static doc_section secs[16];
static int nsecs;

/* The options named in the first cell of a table row: "-x" and "--name"
 * tokens inside backticks, up to the cell's closing '|'. */
static void row_options(doc_section *sec, const char *row)
{
    const char *end = strchr(row + 1, '|');
    bool tick = false;
    for (const char *p = row + 1; p < end; p++) {
        if (*p == '`') {
            tick = !tick;
            continue;
        }
        if (!tick || *p != '-' || (p[-1] != '`' && p[-1] != ' '))
            continue;
        const char *q = p;
        while (q < end && (isalnum((unsigned char)*q) || *q == '-'))
            q++;
        size_t n = (size_t)(q - p);
        if (n >= 2 && n < sizeof sec->opts[0] && (p[1] == '-' ? n > 2 : n == 2)) {
            assert_true(sec->nopts < MAX_DOC_OPTS);
            memcpy(sec->opts[sec->nopts], p, n);
            sec->opts[sec->nopts][n] = '\0';
            sec->nopts++;
        }
        p = q - 1;
    }
}

static int parse_doc(void **state)
{
    (void)state;
    char *doc = px_src_slurp("docs/cli.md");
    if (!doc)
        return -1;
    doc_section *cur = NULL;
    bool in_code = false;
    for (char *line = strtok(doc, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "```", 3)) {
            in_code = !in_code;
            continue;
        }
        if (in_code)
            continue;
        if (!strncmp(line, "## ", 3)) {
            cur = NULL;
            const char *name = line + 3;
            if (!strcmp(name, "Options"))
                name = "pktexpect";
            for (const px_cli_command *c = px_cli_commands(); c->name; c++)
                if (!strcmp(c->name, name) && nsecs < 16) {
                    cur = &secs[nsecs++];
                    snprintf(cur->name, sizeof cur->name, "%s", name);
                }
            continue;
        }
        if (cur && !strncmp(line, "| `", 3))
            row_options(cur, line);
    }
    free(doc);
    return 0;
}

static const doc_section *section(const char *cmd)
{
    for (int i = 0; i < nsecs; i++)
        if (!strcmp(secs[i].name, cmd))
            return &secs[i];
    return NULL;
}

static bool documented(const doc_section *s, const char *opt)
{
    for (int i = 0; s && i < s->nopts; i++)
        if (!strcmp(s->opts[i], opt))
            return true;
    return false;
}

/* `pktexpect [CMD] --help` into buf. */
static void help_of(const char *cmd, char *buf, size_t cap)
{
    char *argv[4] = {"pktexpect", (char *)cmd, "--help", NULL};
    int argc = 3;
    if (!strcmp(cmd, "pktexpect")) {
        argv[1] = "--help";
        argc = 2;
    }
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stdout);
    int so = dup(1);
    dup2(fileno(f), 1);
    int rc = px_cli_main(argc, argv, NULL);
    fflush(stdout);
    dup2(so, 1);
    close(so);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_int_equal(rc, 0);
}

static void test_every_option_documented(void **state)
{
    (void)state;
    static char help[16384];
    int missing = 0;
    for (const px_cli_command *c = px_cli_commands(); c->name; c++) {
        const doc_section *s = section(c->name);
        if (!s) {
            print_error("docs/cli.md has no section '## %s'\n", c->name);
            missing++;
            continue;
        }
        help_of(c->name, help, sizeof help);
        for (const px_cli_opt *o = c->opts; o->lname; o++) {
            char lng[48], shrt[3] = {'-', o->sname, 0};
            snprintf(lng, sizeof lng, "--%s", o->lname);
            if (!documented(s, lng)) {
                print_error("%s %s: not in the option table of docs/cli.md\n", c->name, lng);
                missing++;
            }
            if (o->sname && !documented(s, shrt)) {
                print_error("%s %s: not in the option table of docs/cli.md\n", c->name, shrt);
                missing++;
            }
            if (!strstr(help, lng) || (o->sname && !strstr(help, shrt))) {
                print_error("%s %s: not in `pktexpect %s --help`\n", c->name, lng, c->name);
                missing++;
            }
        }
    }
    assert_int_equal(missing, 0);
}

static bool accepted(const px_cli_command *c, const char *opt)
{
    for (const px_cli_opt *o = c->opts; o->lname; o++) {
        if (opt[1] == '-' && !strcmp(opt + 2, o->lname))
            return true;
        if (opt[1] != '-' && o->sname == opt[1])
            return true;
    }
    return false;
}

static void test_every_documented_option_exists(void **state)
{
    (void)state;
    int unknown = 0, total = 0;
    for (const px_cli_command *c = px_cli_commands(); c->name; c++) {
        const doc_section *s = section(c->name);
        for (int i = 0; s && i < s->nopts; i++, total++)
            if (!accepted(c, s->opts[i])) {
                print_error("docs/cli.md documents %s %s, which the command does not accept\n", c->name, s->opts[i]);
                unknown++;
            }
    }
    assert_int_equal(unknown, 0);
    assert_true(total > 40); /* the page was read */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_option_documented),
        cmocka_unit_test(test_every_documented_option_exists),
    };
    return cmocka_run_group_tests(tests, parse_doc, NULL);
}
