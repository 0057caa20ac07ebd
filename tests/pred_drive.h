/* Shared by the predicate unit tests: frames built from the text form, offered to
 * a predicate through the same dispatch the capture thread uses
 * (px_predicate_offer / px_predicate_finish). Include after <cmocka.h>. */
#ifndef PX_PRED_DRIVE_H
#define PX_PRED_DRIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktexpect/error.h"
#include "pktexpect/predicates.h"
#include "pktexpect/text.h"

#define PX_DRIVE_MAX_FRAMES 16

typedef struct tframe {
    uint8_t *bytes;
    size_t len;
    px_frame f;
} tframe;

static tframe F[PX_DRIVE_MAX_FRAMES];
static size_t NF;

/* Adds a frame built from the text form to F. */
static inline void add(const char *text)
{
    char err[PX_ERRBUF_SIZE] = "";
    assert_true(NF < PX_DRIVE_MAX_FRAMES);
    tframe *t = &F[NF++];
    if (px_frame_parse_text(text, &t->bytes, &t->len, err) != 0)
        fail_msg("text form '%s': %s", text, err);
    px_frame_dissect(&t->f, t->bytes, (uint32_t)t->len, (uint32_t)t->len);
}

/* Test teardown: frees the frames of the test. */
static inline int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NF; i++)
        free(F[i].bytes);
    NF = 0;
    return 0;
}

typedef struct run {
    px_verdict v;
    size_t stopped_at; /* 1-based frame that stopped it, 0 = none */
    bool has_value;
    int64_t value;
    char why[2048];
} run;

/* Offers F[0..NF) until the predicate stops, then finishes it: timed_out when it
 * did not stop (the window closed), false when it stopped itself. Frees it. */
static inline run drive(px_predicate *p)
{
    run r = {0};
    assert_non_null(p);
    for (size_t i = 0; i < NF && !r.stopped_at; i++)
        if (px_predicate_offer(p, &F[i].f))
            r.stopped_at = i + 1;
    px_result res = {0};
    r.v = px_predicate_finish(p, r.stopped_at == 0, &res);
    r.has_value = res.has_value;
    r.value = res.value;
    snprintf(r.why, sizeof r.why, "%s", px_buf_cstr(&res.explanation));
    px_buf_free(&res.explanation);
    px_predicate_free(p);
    return r;
}

static inline void expect_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' does not contain '%s'", text, needle);
}

#endif
