/* Capture-engine regressions on real veth pairs, continued (test_engine.c has
 * the overload, window and reclaim ones; the fixture is engine_env.h):
 *
 * Arms on an idle port are acknowledged by the arming thread itself while the
 * capture thread sleeps (harness/port.c, "parked arms"): test_parked_arms checks
 * that such windows still close at their deadline with no frame to wake the
 * thread (one port, an earlier deadline armed after a later one, two ports),
 * and start exactly at the acknowledgement; test_parked_arm_after_losses that
 * losses before such an arm are not charged to it. test_ring_layouts_read_frames
 * checks that every ring layout the benchmarks compare reads each frame once,
 * whole, VLAN tag restored. test_gather_serves_windows checks that windows
 * armed while the capture thread lets frames gather under a full-rate flood
 * (harness/port_loop.c, adapt_gather) resolve, with the right verdicts, and
 * that the idle port after the flood still passes.
 *
 * Verdicts and correctness are asserted, never timings. Needs root (veth pairs,
 * raw sockets): without it, skips (77) off CI and fails in CI. Every interface
 * is named "pxk<pid><suffix>" and deleted by the test's teardown, or by a
 * reaper process if this one dies (e.g. a sanitizer abort). */
#include "engine_env.h"
#include "source.h"
#include "pktexpect/topology.h"

/* No IPv6 on either end of a pair: the kernel's own frames stay off it. */
static void no_ipv6(const veth_pair *p)
{
    char err[PX_ERRBUF_SIZE];
    if (px_topo_link_no_ipv6(NULL, p->a, err) != 0 || px_topo_link_no_ipv6(NULL, p->b, err) != 0)
        fail_msg("%s", err);
}

/* =========================================================================
 * 7. DESIGN 2.1 / 2.5 on arms acknowledged while the capture thread sleeps:
 *    nothing wakes the thread when such an arm is made, so the windows must
 *    still close at their deadlines on an idle port (the later deadline armed
 *    first, then an earlier one; then a window on two ports, whose deadline is
 *    known only when both have acknowledged), and count exactly the frames
 *    sent after px_expect returned.
 * ========================================================================= */

/* Waits (<= 2 s) until the port has read `frames` frames in all. */
static void wait_read(px_ctx *ctx, const char *port, uint64_t frames)
{
    px_port_stats st = {0};
    for (int i = 0; i < 2000 && st.frames - st.noise < frames; i++) {
        sleep_ms(1);
        assert_int_equal(px_port_get_stats(ctx, port, &st), 0);
    }
}

static void test_parked_arms(void **state)
{
    env *e = *state;
    const veth_pair *p0 = &g_pairs[0], *p1 = &g_pairs[1];
    char err[PX_ERRBUF_SIZE];
    /* No IPv6: a fresh link's neighbour and router solicitations would wake the
     * capture thread, which is what the test must do without. */
    no_ipv6(p0), no_ipv6(p1);
    e->ctx = ctx_new(4);
    open_port(e->ctx, p0->b);
    open_port(e->ctx, p1->b);
    sleep_ms(50); /* both capture threads asleep */
    px_port_stats st0, st1;
    assert_int_equal(px_port_get_stats(e->ctx, p0->b, &st0), 0);

    /* One port: a long window, then a short one (its deadline is earlier than
     * anything the thread would wake for). */
    px_future *lng = e->keep[0] =
        px_expect(e->ctx, p0->b, px_did_not_see_ethertype(ET_MARK), &(px_expect_opts){.timeout_ms = 1500});
    px_future *shrt = e->keep[1] =
        px_expect(e->ctx, p0->b, px_did_not_see_ethertype(ET_MARK), &(px_expect_opts){.timeout_ms = 100});
    assert_int_equal(px_future_wait_for(shrt, 5000), PX_PASS);
    assert_int_equal(px_future_wait_for(lng, 10000), PX_PASS);

    /* Two ports, idle: the deadline is fixed by the second acknowledgement. */
    sleep_ms(20);
    const char *both[] = {p0->b, p1->b};
    px_future *two = e->keep[2] =
        px_expect_any(e->ctx, both, 2, px_did_not_see_ethertype(ET_MARK), &(px_expect_opts){.timeout_ms = 100});
    assert_int_equal(px_future_wait_for(two, 5000), PX_PASS);
    assert_int_equal(px_port_get_stats(e->ctx, p0->b, &st1), 0);
    if (st1.frames != st0.frames)
        fail_msg("%llu frames arrived on the idle port: nothing must wake its thread here",
                 (unsigned long long)(st1.frames - st0.frames));

    /* Window start: a marker read before the arm is not counted, one sent right
     * after px_expect returns is, round after round. */
    uint8_t mark[FRAME_LEN];
    px_port_stats st;
    assert_int_equal(px_port_get_stats(e->ctx, p0->b, &st), 0);
    uint64_t read = st.frames - st.noise;
    for (int i = 0; i < 50; i++) {
        make_frame(mark, ET_MARK, (uint64_t)i * 2);
        assert_int_equal(px_send(e->ctx, p0->a, mark, FRAME_LEN, err), 0);
        wait_read(e->ctx, p0->b, ++read);
        sleep_ms(1); /* asleep again */
        px_future *f = e->keep[3] =
            px_expect(e->ctx, p0->b, px_packet_count(),
                      &(px_expect_opts){.timeout_ms = 100, .filter = "ether proto 0x88b6"});
        make_frame(mark, ET_MARK, (uint64_t)i * 2 + 1);
        assert_int_equal(px_send(e->ctx, p0->a, mark, FRAME_LEN, err), 0);
        read++;
        px_verdict v = px_future_wait_for(f, 5000);
        if (v != PX_PASS || px_future_value(f) != 1)
            fail_msg("round %d: %s, %lld marker frames in the window (want PASS, 1): %s", i, px_verdict_name(v),
                     (long long)px_future_value(f), px_future_explanation(f));
        px_future_free(f);
        e->keep[3] = NULL;
    }
}

/* DESIGN 2.6 on a parked arm: losses before the arm are in its drop epoch
 * (read without a system call when the ring proves nothing was lost since the
 * last read, else read then), so a window armed on the idle port after an
 * overflow is not charged with them. */
static void test_parked_arm_after_losses(void **state)
{
    env *e = *state;
    const veth_pair *p = &g_pairs[0];
    no_ipv6(p);
    spy_on_port(e, 1, 1u << 16, 20000); /* a 1 MiB ring, 300 us per frame */
    flood_start(e, e->ctx, p->a, 256, 0, 0, 400);
    while (!atomic_load(&e->fl.done))
        sleep_ms(5);
    flood_stop(e);
    /* Until the port has read everything (no progress for 200 ms). */
    px_port_stats st = {0}, last = {0};
    for (int quiet = 0, i = 0; quiet < 40 && i < 4000; i++) {
        sleep_ms(5);
        assert_int_equal(px_port_get_stats(e->ctx, p->b, &st), 0);
        quiet = st.frames == last.frames ? quiet + 1 : 0;
        last = st;
    }
    if (st.drops == 0) {
        print_message("the ring never overflowed (flood: %llu frames sent%s%s): nothing to prove\n",
                      (unsigned long long)atomic_load(&e->fl.sent), e->fl.err ? ", error: " : "",
                      e->fl.err ? e->fl.errbuf : "");
        skip();
    }
    sleep_ms(20); /* the thread asleep */
    px_future *f = e->keep[1] =
        px_expect(e->ctx, p->b, px_did_not_see_ethertype(ET_LATE), &(px_expect_opts){.timeout_ms = 100});
    px_verdict v = px_future_wait_for(f, 5000);
    print_message("after %llu drops: %s: %s\n", (unsigned long long)st.drops, px_verdict_name(v),
                  px_future_explanation(f));
    px_assert_pass_keep(f); /* e->keep[1]: the teardown frees it */
}

/* The ring layouts the benchmarks compare (bench/README.md, "Ring options")
 * must read what the default reads, or their figures mean nothing: every frame
 * once, whole, in order, a VLAN tag the kernel took out put back. */
static void test_ring_layouts_read_frames(void **state)
{
    env *e = *state;
    const veth_pair *p = &g_pairs[0];
    static const char *const layouts[] = {"v2", "v2:prefetch=data", "v2:prefetch=none", "v2:slot=256",
                                          "v2:slot=snaplen", "v3:tov=1", "v3:tov=1:block=64"};
    char err[PX_ERRBUF_SIZE];
    no_ipv6(p);
    for (size_t l = 0; l < sizeof layouts / sizeof *layouts; l++) {
        px__ring_opts o;
        assert_int_equal(px__ring_opts_parse(layouts[l], &o, err), 0);
        /* 65,535-byte slots: 64 MiB hold 1,023 (4 MiB would hold 63) */
        px_ctx *ctx = e->ctx = ctx_new(o.slot == PX__RING_SLOT_SNAPLEN ? 64 : 4);
        assert_int_equal(px__ctx_set_ring(ctx, &o), 0);
        open_port(ctx, p->b);
        e->keep[0] = px_expect(ctx, p->b, px_packet_count_was(300),
                               &(px_expect_opts){.timeout_ms = 1000, .filter = "ether proto 0x88b6"});
        e->keep[1] = px_expect(ctx, p->b, px_saw_vlan_tag(102, -1), &(px_expect_opts){.timeout_ms = 1000});
        uint8_t fr[FRAME_LEN + 4];
        for (uint64_t i = 0; i < 300; i++) {
            make_frame(fr, ET_MARK, i);
            assert_int_equal(px_send(ctx, p->a, fr, FRAME_LEN, err), 0);
        }
        make_frame(fr + 4, ET_LATE, 0); /* tagged: dst, src, 802.1Q VID 102, then the rest */
        memmove(fr, fr + 4, 12);
        fr[12] = 0x81, fr[13] = 0x00, fr[14] = 0x00, fr[15] = 102;
        assert_int_equal(px_send(ctx, p->a, fr, sizeof fr, err), 0);
        px_verdict v0 = px_future_wait_for(e->keep[0], 10000), v1 = px_future_wait_for(e->keep[1], 10000);
        if (v0 != PX_PASS || v1 != PX_PASS)
            fail_msg("layout %s: count %s (%s), vlan %s (%s)", layouts[l], px_verdict_name(v0),
                     px_future_explanation(e->keep[0]), px_verdict_name(v1), px_future_explanation(e->keep[1]));
        px_port_stats st;
        assert_int_equal(px_port_get_stats(ctx, p->b, &st), 0);
        assert_int_equal(st.drops, 0);
        assert_int_equal(st.truncated, 0);
        px_future_free(e->keep[0]);
        px_future_free(e->keep[1]);
        e->keep[0] = e->keep[1] = NULL;
        px_ctx_free(ctx);
        e->ctx = NULL;
    }
}

/* =========================================================================
 * 8. DESIGN 2.1 / 2.5 / 2.6 / 2.11 while the capture thread lets frames gather
 *    under load (harness/port_loop.c, adapt_gather): during a gather the ring
 *    is not polled, yet arms, stops and deadlines must still be served. During
 *    a full-rate flood read at full speed (no slow predicate, so the gather
 *    grows to its longest), expectations armed one after another on the same
 *    port each resolve (a hang is the bug): a positive window PASSes with the
 *    frame sent right after px_expect returned (2.1), a negative one closes at
 *    its deadline and PASSes, or is ERROR naming drops the port reported in
 *    its window (2.6), never FAIL and never "behind" (2.5, 2.11). Once the
 *    flood has stopped and the port is idle again, a positive window armed
 *    then its frame sent PASSes (the idle path after a long gather).
 * ========================================================================= */

#define GATHER_ROUNDS 20
#define GATHER_MIN_READ 200000 /* frames read during the flood: well above 0.8 Mframes/s for ~1 s */
#define GATHER_SAFETY_MS 5000  /* far beyond any window: not resolved by then is a hang */

/* Waits for `f` (at most GATHER_SAFETY_MS); fails the test if it did not resolve. */
static px_verdict gather_wait(px_future *f, const char *what, int round)
{
    px_verdict v = px_future_wait_for(f, GATHER_SAFETY_MS);
    if (v == PX_PENDING)
        fail_msg("%s (round %d) did not resolve within %d ms: the capture thread did not serve it", what, round,
                 GATHER_SAFETY_MS);
    return v;
}

/* Arms saw_ethertype(ET_MARK) on `port` for 200 ms, sends marker `seq` from
 * `sctx` on `peer` right after px_expect returns, and asserts PASS with that
 * very frame. Uses e->keep[slot]; frees it. */
static void gather_positive(env *e, const char *port, const char *peer, int slot, uint64_t seq, int round)
{
    px_future *f = e->keep[slot] =
        px_expect(e->ctx, port, px_saw_ethertype(ET_MARK), &(px_expect_opts){.timeout_ms = 200});
    assert_non_null(f);
    send_one(e->sctx, peer, ET_MARK, seq);
    px_verdict v = gather_wait(f, "saw_ethertype(0x88b6)", round);
    px_frame fr;
    bool has = v == PX_PASS && px_future_frame(f, &fr);
    if (!has || frame_type(&fr) != ET_MARK || frame_seq(&fr) != seq)
        fail_msg("round %d: saw_ethertype(0x88b6) is %s (want PASS with marker %llu, got %s %llu): %s", round,
                 px_verdict_name(v), (unsigned long long)seq, has ? "marker" : "no frame",
                 has ? (unsigned long long)frame_seq(&fr) : 0ull, px_future_explanation(f));
    px_future_free(f);
    e->keep[slot] = NULL;
}

/* Arms did_not_see_ethertype(ET_LATE) (never sent) for 50 ms and asserts PASS,
 * or ERROR naming drops counted in its window. Returns 1 if ERROR. */
static int gather_negative(env *e, const char *port, int slot, int round)
{
    px_future *f = e->keep[slot] =
        px_expect(e->ctx, port, px_did_not_see_ethertype(ET_LATE), &(px_expect_opts){.timeout_ms = 50});
    assert_non_null(f);
    px_verdict v = gather_wait(f, "did_not_see_ethertype(0x88b7)", round);
    const char *x = px_future_explanation(f);
    px_counters c;
    px_future_counters(f, &c);
    bool ok = v == PX_PASS || (v == PX_ERROR && c.drops > 0 && contains(x, "drop"));
    if (!ok || contains(x, "behind"))
        fail_msg("round %d: did_not_see_ethertype(0x88b7) is %s, %llu drops in its window (want PASS, or ERROR "
                 "naming its drops; never FAIL, never behind): %s",
                 round, px_verdict_name(v), (unsigned long long)c.drops, x);
    px_future_free(f);
    e->keep[slot] = NULL;
    return v == PX_ERROR;
}

static void test_gather_serves_windows(void **state)
{
    env *e = *state;
    const veth_pair *p = &g_pairs[0];
    no_ipv6(p);
    /* A large ring: a marker lost to a scheduling hiccup would fail a positive
     * window for a reason that is not the gather. */
    e->ctx = ctx_new(64);
    e->sctx = ctx_new(1); /* the markers: sent apart from the flood's context */
    open_port(e->ctx, p->b);
    px_port_stats st0, st1, st;
    assert_int_equal(px_port_get_stats(e->ctx, p->b, &st0), 0);
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    /* Full rate, no pause; max_ms only bounds it if the test dies midway. */
    flood_start(e, e->ctx, p->a, 256, 0, 0, 10000);
    /* Until the port has read a good part of the flood: the gather has grown. */
    st = st0;
    for (int i = 0; i < 600 && st.frames - st0.frames < GATHER_MIN_READ / 2 && !atomic_load(&e->fl.done); i++) {
        sleep_ms(5);
        assert_int_equal(px_port_get_stats(e->ctx, p->b, &st), 0);
    }
    int errors = 0;
    for (int r = 0; r < GATHER_ROUNDS; r++) {
        gather_positive(e, p->b, p->a, 1, (uint64_t)r, r);
        errors += gather_negative(e, p->b, 2, r);
    }
    bool flood_alive = !atomic_load(&e->fl.done);
    int ferr = e->fl.err;
    flood_stop(e);
    uint64_t t1 = now_ns(CLOCK_MONOTONIC);
    assert_int_equal(px_port_get_stats(e->ctx, p->b, &st1), 0);
    uint64_t read = st1.frames - st0.frames;
    double secs = (double)(t1 - t0) / 1e9;
    print_message("flood: %llu frames sent, %llu read by the port in %.2f s (%.2f Mframes/s), %llu dropped; "
                  "%d of %d negative windows ERROR (drops)\n",
                  (unsigned long long)atomic_load(&e->fl.sent), (unsigned long long)read, secs,
                  (double)read / secs / 1e6, (unsigned long long)(st1.drops - st0.drops), errors, GATHER_ROUNDS);
    if (ferr)
        fail_msg("the flood stopped with an error: %s", e->fl.errbuf);
    if (!flood_alive)
        fail_msg("the flood ended before the last window: the windows were not all armed under load");
    if (read < GATHER_MIN_READ)
        fail_msg("the port read only %llu frames during the flood (want > %d): not the load that makes the "
                 "gather grow, so this test proves nothing here",
                 (unsigned long long)read, GATHER_MIN_READ);
    /* Each ERROR above was legitimate (drops in its window), but a port that
     * reads this flood as it comes loses nothing in nearly every window (0 or
     * 1 of 20 here). Losses in most windows mean the thread stopped reading the
     * ring for long stretches: e.g. a gather that lasts until the next deadline. */
    if (errors > GATHER_ROUNDS / 2)
        fail_msg("%d of %d negative windows lost frames (%llu dropped): the capture thread does not keep up with "
                 "a flood it reads at full rate; is a gather leaving the ring unread until a deadline?",
                 errors, GATHER_ROUNDS, (unsigned long long)(st1.drops - st0.drops));

    /* Idle again: until the port has read the rest (no progress for 100 ms). */
    px_port_stats last = st1;
    for (int quiet = 0, i = 0; quiet < 20 && i < 1000; i++) {
        sleep_ms(5);
        assert_int_equal(px_port_get_stats(e->ctx, p->b, &st), 0);
        quiet = st.frames == last.frames ? quiet + 1 : 0;
        last = st;
    }
    for (int r = 0; r < 5; r++) {
        gather_positive(e, p->b, p->a, 1, 1000 + (uint64_t)r, GATHER_ROUNDS + r);
        sleep_ms(20); /* the thread asleep again between rounds */
    }
}

int main(void)
{
    veth_pairs_init("test_engine_park", g_pairs, NPAIRS, "pxk");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parked_arms, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_parked_arm_after_losses, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_ring_layouts_read_frames, setup1, teardown),
        cmocka_unit_test_setup_teardown(test_gather_serves_windows, setup1, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

