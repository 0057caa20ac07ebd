/* pktexpect runner: a scenario's topology: build it from the plan, record each
 * item (state file, topo_state.h), undo it or keep it (run_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "pktexpect/topology.h"
#include "run_internal.h"

static int topo_push(px__topo *t, undo_kind k, const char *netns, const char *name)
{
    /* On record first: a run killed right after this can be cleaned. */
    px_tstate_add(t->state, k == UNDO_LINK, netns, name);
    undo *u = realloc(t->items, (t->n + 1) * sizeof *u);
    if (!u)
        return PX_ENOMEM;
    t->items = u;
    t->items[t->n++] = (undo){k, netns, name};
    return 0;
}

/* Returns true when every item was removed. */
bool px__topo_teardown(const px_scenario *s, px__topo *t, px__runstate *R)
{
    bool all = true;
    const px_run_opts *o = R->o;
    for (size_t i = 0; i < s->nteardown; i++) {
        px_buf out = PX_BUF_INIT;
        /* Teardown runs after an interrupt or the deadline too: no stop flag here. */
        int rc = px_run_command(s->teardown[i].run, s->teardown[i].netns, s->teardown[i].timeout_ms, NULL, -1, &out);
        if (rc != 0)
            fprintf(o->err, "%s:%d:%d: teardown command '%s' %s %d\n%s", s->teardown[i].pos.file,
                    s->teardown[i].pos.line, s->teardown[i].pos.col, s->teardown[i].run,
                    rc < 0 ? "failed:" : "exited with", rc, px_buf_cstr(&out));
        px_buf_free(&out);
    }
    /* Links first (their namespaces may hold them), newest first. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = t->n; i-- > 0;) {
            undo *u = &t->items[i];
            char eb[PX_ERRBUF_SIZE] = "";
            int rc = 0;
            if (pass == 0 && u->kind == UNDO_LINK)
                rc = px_topo_link_del(u->netns, u->name, eb);
            else if (pass == 1 && u->kind == UNDO_NETNS)
                rc = px_topo_netns_del(u->name, eb);
            if (rc) {
                fprintf(o->err, "pktexpect: teardown: %s\n", eb);
                all = false;
            }
        }
    }
    free(t->items);
    t->items = NULL;
    t->n = 0;
    return all;
}

void px__topo_keep(const px_scenario *s, px__topo *t, const px_run_opts *o)
{
    FILE *f = o->tap ? o->err : o->out;
    fprintf(f, "%stopology of '%s' kept (--keep-topology):", o->tap ? "# " : "", s->name);
    for (size_t i = 0; i < t->n; i++) {
        const undo *u = &t->items[i];
        if (u->kind == UNDO_NETNS)
            fprintf(f, " netns %s;", u->name);
        else
            fprintf(f, " %s%s%s;", u->name, u->netns ? " in " : "", u->netns ? u->netns : "");
    }
    fputs(" 'pktexpect clean' removes it\n", f);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

/* What to do about a name that exists already (no live run holds it: the name
 * locks were taken first). */
#define LEFT_HINT                                                                                              \
    " (left by a run that was killed, or kept with --keep-topology? 'pktexpect clean' removes what such runs "  \
    "left; anything else: remove it by hand, e.g. 'ip netns del NAME' or 'ip link del NAME')"

/* Builds the topology; on error returns the PX code with the reason in `why`. */
int px__topo_build(const px_scenario *s, px__topo *t, px__runstate *R, px_buf *why)
{
    char eb[PX_ERRBUF_SIZE] = "";
    int rc;
#define TRY(call, pos)                                                                      \
    do {                                                                                    \
        eb[0] = '\0';                                                                       \
        if ((rc = (call)) != 0) {                                                           \
            px_buf_printf(why, "%s:%d:%d: %s%s", (pos).file, (pos).line, (pos).col, eb,     \
                          rc == PX_EEXIST ? LEFT_HINT : "");                                \
            return rc;                                                                      \
        }                                                                                   \
    } while (0)
    for (size_t i = 0; i < s->nnamespaces; i++) {
        eb[0] = '\0';
        rc = px_topo_netns_add(s->namespaces[i], eb);
        if (rc) {
            px_buf_printf(why, "%s: %s%s", s->path, eb, rc == PX_EEXIST ? LEFT_HINT : "");
            return rc;
        }
        if ((rc = topo_push(t, UNDO_NETNS, NULL, s->namespaces[i])))
            return rc;
    }
    for (size_t i = 0; i < s->nveths; i++) {
        const px_scn_veth *v = &s->veths[i];
        /* Made in the runner's namespace, then each end moved where it belongs. */
        TRY(px_topo_veth_add(NULL, v->name, v->peer, eb), v->pos);
        if ((rc = topo_push(t, UNDO_LINK, NULL, v->name)))
            return rc;
        if (v->netns) {
            TRY(px_topo_link_set_netns(NULL, v->name, v->netns, eb), v->pos);
            t->items[t->n - 1].netns = v->netns;
            TRY(px_topo_link_set_up(v->netns, v->name, true, eb), v->pos);
        }
        if (v->peer_netns) {
            TRY(px_topo_link_set_netns(NULL, v->peer, v->peer_netns, eb), v->pos);
            TRY(px_topo_link_set_up(v->peer_netns, v->peer, true, eb), v->pos);
        }
        if (v->mtu) {
            TRY(px_topo_link_set_mtu(v->netns, v->name, v->mtu, eb), v->pos);
            TRY(px_topo_link_set_mtu(v->peer_netns, v->peer, v->mtu, eb), v->pos);
        }
    }
    for (size_t i = 0; i < s->nbridges; i++) {
        const px_scn_bridge *b = &s->bridges[i];
        TRY(px_topo_bridge_add(b->netns, b->name, b->vlan_filtering, eb), b->pos);
        if ((rc = topo_push(t, UNDO_LINK, b->netns, b->name)))
            return rc;
        if (b->mtu)
            TRY(px_topo_link_set_mtu(b->netns, b->name, b->mtu, eb), b->pos);
        for (size_t j = 0; j < b->nports; j++) {
            TRY(px_topo_link_set_master(b->netns, b->ports[j].name, b->name, eb), b->ports[j].pos);
            for (size_t k = 0; k < b->ports[j].nvlans; k++) {
                const px_scn_bvlan *bv = &b->ports[j].vlans[k];
                TRY(px_topo_bridge_vlan_add(b->netns, b->ports[j].name, bv->vid, bv->pvid, bv->untagged, eb),
                    b->ports[j].pos);
            }
        }
        for (size_t k = 0; k < b->nvlans; k++)
            TRY(px_topo_bridge_vlan_add(b->netns, b->name, b->vlans[k].vid, b->vlans[k].pvid, b->vlans[k].untagged,
                                        eb),
                b->pos);
    }
    for (size_t i = 0; i < s->naddrs; i++)
        TRY(px_topo_addr_add(s->addrs[i].netns, s->addrs[i].dev, s->addrs[i].cidr, eb), s->addrs[i].pos);
#undef TRY
    for (size_t i = 0; i < s->nsetup; i++) {
        const px_scn_cmd *c = &s->setup[i];
        px_buf out = PX_BUF_INIT;
        if (R->o->verbose)
            px__run_say(R->o, "setup: %s\n", c->run);
        rc = px_run_command(c->run, c->netns,
                            px__run_scaled(R->o, c->timeout_ms ? c->timeout_ms : PX_RUN_CMD_TIMEOUT_MS), R->o->stop,
                            R->cancel_fd, &out);
        if (rc != 0) {
            px_buf_printf(why, "%s:%d:%d: setup command '%s' ", c->pos.file, c->pos.line, c->pos.col, c->run);
            if (rc == PX_ETIMEDOUT)
                px_buf_append(why, "timed out");
            else if (rc == PX_ECANCELED)
                px_buf_append(why, px__run_must_stop(R) && R->deadline_hit ? "was stopped: global deadline reached"
                                                                           : "was interrupted");
            else if (rc < 0)
                px_buf_printf(why, "could not run: %s", px_strerror(rc));
            else
                px_buf_printf(why, "exited with %d", rc);
            if (out.len)
                px_buf_printf(why, "; its output:\n%s", px_buf_cstr(&out));
            px_buf_free(&out);
            return PX_ESYS;
        }
        px_buf_free(&out);
    }
    return 0;
}
