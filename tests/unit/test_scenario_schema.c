/* Unit tests of the scenario loader's table-driven schema (runner/scenario_int.h):
 * the generic walker (typed values stored by the table, unknown, duplicate and
 * non-scalar keys, missing required keys, ranges, essential fields,
 * required-first tables, handlers), and the schema's tables against
 * docs/scenarios.md: every key a table accepts is documented. No privileges,
 * no files written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario_int.h"

/* A loader and a document parsed from `yaml`, as px_scenario_load sets them up. */
typedef struct fixture {
    loader L;
    doc d;
    px_buf errs;
} fixture;

static yaml_node_t *parse(fixture *fx, const char *yaml)
{
    memset(fx, 0, sizeof *fx);
    fx->errs = (px_buf)PX_BUF_INIT;
    fx->L.errs = &fx->errs;
    fx->L.budget = NODE_BUDGET;
    fx->L.s = calloc(1, sizeof *fx->L.s);
    assert_non_null(fx->L.s);
    fx->d.file = "t.yaml";
    fx->d.top = true;
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
    assert_true(yaml_parser_load(&p, &fx->d.d));
    yaml_parser_delete(&p);
    yaml_node_t *root = yaml_document_get_root_node(&fx->d.d);
    assert_non_null(root);
    return root;
}

static void done(fixture *fx)
{
    yaml_document_delete(&fx->d.d);
    px_scenario_free(fx->L.s);
    px_buf_free(&fx->errs);
}

typedef struct thing {
    char *name;
    uint16_t vid;
    uint32_t mtu;
    int code;
    bool on;
    uint32_t ms;
    char *dev;
    int hook; /* 1: called with a value, 2: called for an absent key */
} thing;

static bool hook(px__scn_walk *w, const px__scn_field *f, yaml_node_t *v)
{
    (void)f;
    ((thing *)w->obj)->hook = v ? 1 : 2;
    return true;
}

static const px__scn_field thing_fields[] = {
    {.key = "name", .type = PX__SCN_NONEMPTY, AT(thing, name), .flags = PX__SCN_REQUIRED},
    {.key = "vid", .type = PX__SCN_U32, AT(thing, vid), .min = 1, .max = 4094},
    {.key = "mtu", .type = PX__SCN_U32, AT(thing, mtu), .min = 68, .max = 65535},
    {.key = "code", .type = PX__SCN_U32, AT(thing, code), .min = 0, .max = 255},
    {.key = "on", .type = PX__SCN_BOOL, AT(thing, on)},
    {.key = "wait", .type = PX__SCN_DURATION, AT(thing, ms)},
    {.key = "dev", .type = PX__SCN_IFNAME, AT(thing, dev)},
    {.key = "hook", .flags = PX__SCN_ALWAYS, .fn = hook},
};
static const px__scn_policy thing_policy = POLICY("a thing", thing_fields);

static void free_thing(thing *t)
{
    free(t->name);
    free(t->dev);
}

/* Every type lands in its member, at its width; an absent ALWAYS field's handler runs. */
static void test_walker_stores_typed_values(void **state)
{
    (void)state;
    fixture fx;
    yaml_node_t *root = parse(&fx, "{name: a, vid: 4094, mtu: 9000, code: 255, on: yes, wait: 1.5s, dev: eth0}");
    thing t = {0};
    yaml_node_t *vals[sizeof thing_fields / sizeof thing_fields[0]];
    assert_true(px__scn_walk_map(&fx.L, &fx.d, root, &thing_policy, &t, NULL, vals));
    assert_string_equal(px_buf_cstr(&fx.errs), "");
    assert_int_equal(fx.L.nerrs, 0);
    assert_string_equal(t.name, "a");
    assert_int_equal(t.vid, 4094);
    assert_int_equal(t.mtu, 9000);
    assert_int_equal(t.code, 255);
    assert_true(t.on);
    assert_int_equal(t.ms, 1500);
    assert_string_equal(t.dev, "eth0");
    assert_int_equal(t.hook, 2);
    free_thing(&t);
    done(&fx);
}

/* Key errors, missing keys and ranges all come from the walker, each at its node. */
static void test_walker_reports(void **state)
{
    (void)state;
    fixture fx;
    yaml_node_t *root = parse(&fx, "nme: a\n"
                                   "vid: 0\n"
                                   "vid: 5\n"
                                   "? [x]\n"
                                   ": 1\n"
                                   "hook: 1\n");
    thing t = {.vid = 7};
    yaml_node_t *vals[sizeof thing_fields / sizeof thing_fields[0]];
    assert_true(px__scn_walk_map(&fx.L, &fx.d, root, &thing_policy, &t, NULL, vals));
    assert_string_equal(px_buf_cstr(&fx.errs),
                        "t.yaml:1:1: unknown key 'nme' in a thing (expected one of: name, vid, mtu, code, on, wait, "
                        "dev, hook)\n"
                        "t.yaml:3:1: duplicate key 'vid' in a thing\n"
                        "t.yaml:4:3: a thing: expected a plain key, got a list\n"
                        "t.yaml:1:1: a thing is missing 'name'\n"
                        "t.yaml:2:6: vid: expected an integer from 1 to 4094, got '0'\n");
    assert_int_equal(fx.L.nerrs, 5);
    assert_int_equal(t.vid, 7); /* an invalid value is not stored */
    assert_int_equal(t.hook, 1);
    free_thing(&t);
    done(&fx);
}

/* An essential field that is missing or invalid stops the walk: later fields are not read. */
static const px__scn_field essential_fields[] = {
    {.key = "vid", .type = PX__SCN_U32, AT(thing, vid), .flags = PX__SCN_REQUIRED | PX__SCN_ESSENTIAL, .min = 1,
     .max = 4094},
    {.key = "hook", .flags = PX__SCN_ALWAYS, .fn = hook},
};
static const px__scn_policy essential_policy = POLICY("an entry", essential_fields);

static void test_walker_essential_stops(void **state)
{
    (void)state;
    const char *docs[] = {"{hook: 1}", "{vid: 5000, hook: 1}"};
    const char *want[] = {"t.yaml:1:1: an entry is missing 'vid'\n",
                          "t.yaml:1:7: vid: expected an integer from 1 to 4094, got '5000'\n"};
    for (size_t i = 0; i < 2; i++) {
        fixture fx;
        yaml_node_t *root = parse(&fx, docs[i]);
        thing t = {0};
        yaml_node_t *vals[2];
        assert_false(px__scn_walk_map(&fx.L, &fx.d, root, &essential_policy, &t, NULL, vals));
        assert_string_equal(px_buf_cstr(&fx.errs), want[i]);
        assert_int_equal(t.hook, 0);
        done(&fx);
    }
}

/* A required-first table reports only the first missing key and reads nothing. */
static const px__scn_field pair_fields[] = {
    {.key = "name", .type = PX__SCN_NONEMPTY, AT(thing, name), .flags = PX__SCN_REQUIRED},
    {.key = "vid", .type = PX__SCN_U32, AT(thing, vid), .min = 1, .max = 4094},
    {.key = "dev", .type = PX__SCN_IFNAME, AT(thing, dev), .flags = PX__SCN_REQUIRED},
};
static const px__scn_policy pair_policy = {"a pair", pair_fields, 3, true};

static void test_walker_required_first(void **state)
{
    (void)state;
    fixture fx;
    yaml_node_t *root = parse(&fx, "{vid: 0}");
    thing t = {0};
    yaml_node_t *vals[3];
    assert_false(px__scn_walk_map(&fx.L, &fx.d, root, &pair_policy, &t, NULL, vals));
    assert_string_equal(px_buf_cstr(&fx.errs), "t.yaml:1:1: a pair is missing 'name'\n");
    done(&fx);
}

/* A value that is not a mapping: one error, with the table's name. */
static void test_walker_not_a_mapping(void **state)
{
    (void)state;
    fixture fx;
    yaml_node_t *root = parse(&fx, "[1, 2]");
    thing t = {0};
    yaml_node_t *vals[sizeof thing_fields / sizeof thing_fields[0]];
    assert_false(px__scn_walk_map(&fx.L, &fx.d, root, &thing_policy, &t, NULL, vals));
    assert_string_equal(px_buf_cstr(&fx.errs), "t.yaml:1:1: a thing: expected a mapping, got a list\n");
    done(&fx);
}

/* ------------------------------------------------------ tables and docs */

/* Within a table a key appears once (a second entry could never be reached). */
static void test_schema_keys_unique(void **state)
{
    (void)state;
    size_t n = 0;
    for (const px__scn_policy *const *p = px__scn_schema; *p; p++, n++) {
        assert_non_null((*p)->what);
        assert_true((*p)->nfields > 0);
        for (size_t i = 0; i < (*p)->nfields; i++)
            for (size_t j = 0; j < i; j++)
                if (!strcmp((*p)->fields[i].key, (*p)->fields[j].key))
                    fail_msg("key '%s' is twice in the table of %s", (*p)->fields[i].key, (*p)->what);
    }
    assert_true(n >= 10);
}

static char *read_doc(const char *rel)
{
    const char *dir = getenv("PX_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", rel);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s (PX_SOURCE_DIR is set by ctest)", path);
    px_buf b = PX_BUF_INIT;
    char chunk[4096];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        px_buf_append_n(&b, chunk, r);
    fclose(f);
    char *s = px_buf_steal(&b);
    assert_non_null(s);
    return s;
}

/* `key:` (YAML) or `key` (a table or the text), not inside a longer name. */
static bool documented(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text; (p = strstr(p, key)); p++) {
        char before = p == text ? ' ' : p[-1];
        if (before == '_' || (before >= 'a' && before <= 'z'))
            continue;
        if (p[n] == ':' || (before == '`' && p[n] == '`'))
            return true;
    }
    return false;
}

/* Every key a table accepts is documented in docs/scenarios.md: a key added to
 * the schema without its documentation fails here. */
static void test_schema_documented(void **state)
{
    (void)state;
    char *text = read_doc("docs/scenarios.md");
    for (const px__scn_policy *const *p = px__scn_schema; *p; p++)
        for (size_t i = 0; i < (*p)->nfields; i++)
            if (!documented(text, (*p)->fields[i].key))
                fail_msg("key '%s' of %s is not in docs/scenarios.md", (*p)->fields[i].key, (*p)->what);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walker_stores_typed_values),
        cmocka_unit_test(test_walker_reports),
        cmocka_unit_test(test_walker_essential_stops),
        cmocka_unit_test(test_walker_required_first),
        cmocka_unit_test(test_walker_not_a_mapping),
        cmocka_unit_test(test_schema_keys_unique),
        cmocka_unit_test(test_schema_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
