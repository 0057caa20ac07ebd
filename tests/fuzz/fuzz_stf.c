/* libFuzzer target: the STF parser (runner/stf.h) and the translation of its
 * table statements against a small BMv2 JSON (runner/stf_p4.h). Any text either
 * fails with "t.stf:LINE:COL: ..." lines or parses into statements whose fields
 * hold together; every add/setdefault either translates into one CLI line or
 * fails with a message at its place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "stf.h"
#include "stf_p4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char json[] =
    "{\"header_types\": [{\"name\": \"h_t\", \"fields\": [[\"f\", 12, false], [\"g\", 48, false]]}],"
    " \"headers\": [{\"name\": \"h\", \"header_type\": \"h_t\"}],"
    " \"actions\": [{\"name\": \"c.a\", \"id\": 0, \"runtime_data\": [{\"name\": \"x\", \"bitwidth\": 9}]},"
    "               {\"name\": \"c.b\", \"id\": 1, \"runtime_data\": []}],"
    " \"pipelines\": [{\"name\": \"ingress\", \"tables\": ["
    "   {\"name\": \"c.t\", \"key\": [{\"match_type\": \"exact\", \"name\": \"h.f\", \"target\": [\"h\", \"f\"]}],"
    "    \"action_ids\": [0, 1]},"
    "   {\"name\": \"c.l\", \"key\": [{\"match_type\": \"lpm\", \"name\": \"h.g\", \"target\": [\"h\", \"g\"]},"
    "                              {\"match_type\": \"ternary\", \"name\": \"h.f\", \"target\": [\"h\", \"f\"]},"
    "                              {\"match_type\": \"range\", \"name\": \"r\", \"target\": [\"h\", \"f\"]}],"
    "    \"action_ids\": [0, 1]}]}]}";

static void check_lines(const px_buf *err)
{
    const char *p = px_buf_cstr(err);
    while (*p) {
        if (strncmp(p, "t.stf:", 6) != 0)
            abort(); /* every message says where */
        const char *nl = strchr(p, '\n');
        if (!nl)
            abort();
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    static px_p4json *p4;
    if (!p4) {
        px_buf e = PX_BUF_INIT;
        if (px_p4json_parse("fuzz.json", json, sizeof json - 1, &p4, &e) != 0)
            abort();
        px_buf_free(&e);
    }
    px_stf *s = NULL;
    px_buf err = PX_BUF_INIT;
    int rc = px_stf_parse("t.stf", (const char *)data, size, &s, &err);
    if (rc != 0) {
        if (rc != PX_EPARSE && rc != PX_ENOMEM)
            abort();
        if (rc == PX_EPARSE && err.len == 0)
            abort();
        check_lines(&err);
        px_buf_free(&err);
        return 0;
    }
    for (size_t i = 0; i < s->n; i++) {
        const px_stf_stmt *st = &s->s[i];
        if (st->line < 1 || st->col < 1)
            abort();
        if (st->kind == PX_STF_PACKET && (st->nbytes < 14 || st->nbytes > PX_STF_FRAME_MAX || !st->bytes))
            abort();
        if (st->kind == PX_STF_EXPECT) {
            size_t d;
            for (size_t k = 0; k < st->nnibbles; k++)
                if (st->nibbles[k] > 15 || st->care[k] > 1)
                    abort();
            /* The expected data itself (wildcards as 0) matches its own pattern. */
            size_t len = (st->nnibbles + 1) / 2;
            uint8_t *b = calloc(1, len + 1);
            if (!b)
                abort();
            for (size_t k = 0; k < st->nnibbles; k++)
                b[k / 2] |= (uint8_t)(k % 2 ? st->nibbles[k] : st->nibbles[k] << 4);
            if (st->nnibbles % 2 == 0 && !px_stf_match(st, b, len, &d))
                abort();
            free(b);
        }
        if (st->kind == PX_STF_ADD || st->kind == PX_STF_SETDEFAULT) {
            px_buf cmd = PX_BUF_INIT, terr = PX_BUF_INIT;
            int trc = px_stf_translate(p4, s, st, &cmd, &terr);
            if (trc == 0 && (cmd.len == 0 || strchr(px_buf_cstr(&cmd), '\n') != px_buf_cstr(&cmd) + cmd.len - 1))
                abort(); /* one line */
            if (trc != 0 && trc != PX_ENOMEM)
                check_lines(&terr);
            px_buf_free(&cmd);
            px_buf_free(&terr);
        }
    }
    px_stf_free(s);
    px_buf_free(&err);
    return 0;
}
