/* pktexpect runner: the scenario's cross checks, those that look beyond one
 * value: namespaces declared, interfaces the topology creates, ports (declared,
 * implicit, ambiguous, at most 64 per test), BPF filters compiled as
 * the run will compile them, pcap files to replay, and the columns of the
 * expression and frame checkers' errors. See scenario_int.h. */
#include "scenario_int.h"

#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktexpect/predicates.h"

static bool ns_declared(const px_scenario *s, const char *ns)
{
    if (!ns)
        return true;
    for (size_t i = 0; i < s->nnamespaces; i++)
        if (!strcmp(s->namespaces[i], ns))
            return true;
    return false;
}

void px__scn_check_ns(loader *L, const doc *d, const yaml_node_t *n, const char *ns)
{
    if (ns && !ns_declared(L->s, ns))
        px__scn_err_node(L, d, n, "unknown namespace '%s': declare it under topology.namespaces", ns);
}

bool px__scn_streq_null(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Is there an interface `name` the topology creates in namespace `ns`? */
bool px__scn_topo_has_if(const px_scenario *s, const char *name, const char *ns, bool bridges_too)
{
    for (size_t i = 0; i < s->nveths; i++) {
        const px_scn_veth *v = &s->veths[i];
        if ((!strcmp(v->name, name) && px__scn_streq_null(v->netns, ns)) ||
            (!strcmp(v->peer, name) && px__scn_streq_null(v->peer_netns, ns)))
            return true;
    }
    if (bridges_too)
        for (size_t i = 0; i < s->nbridges; i++)
            if (!strcmp(s->bridges[i].name, name) && px__scn_streq_null(s->bridges[i].netns, ns))
                return true;
    return false;
}

void px__scn_add_port(loader *L, const char *name, const char *ifname, const char *ns, px_scn_pos pos)
{
    px_scenario *s = L->s;
    for (size_t i = 0; i < s->nports; i++) {
        if (!strcmp(s->ports[i].name, name)) {
            if (!px__scn_streq_null(s->ports[i].netns, ns)) {
                char **a = PUSH(L, L->ambiguous, L->nambiguous);
                if (a)
                    *a = px__scn_strdup(L, name);
            }
            return;
        }
    }
    px_scn_port *p = PUSH(L, s->ports, s->nports);
    if (!p)
        return;
    p->name = px__scn_strdup(L, name);
    p->ifname = px__scn_strdup(L, ifname);
    p->netns = px__scn_strdup(L, ns);
    p->pos = pos;
}

void px__scn_implicit_ports(loader *L)
{
    px_scenario *s = L->s;
    for (size_t i = 0; i < s->nveths; i++) {
        px__scn_add_port(L, s->veths[i].name, s->veths[i].name, s->veths[i].netns, s->veths[i].pos);
        px__scn_add_port(L, s->veths[i].peer, s->veths[i].peer, s->veths[i].peer_netns, s->veths[i].pos);
    }
    for (size_t i = 0; i < s->nbridges; i++)
        px__scn_add_port(L, s->bridges[i].name, s->bridges[i].name, s->bridges[i].netns, s->bridges[i].pos);
}

const px_scn_port *px_scenario_port(const px_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nports; i++)
        if (!strcmp(s->ports[i].name, name))
            return &s->ports[i];
    return NULL;
}

void px__scn_check_port_ref(loader *L, const doc *d, const yaml_node_t *n, const char *name)
{
    for (size_t i = 0; i < L->nambiguous; i++)
        if (L->ambiguous[i] && !strcmp(L->ambiguous[i], name)) {
            px__scn_err_node(
                L, d, n,
                "port '%s' is ambiguous: interfaces of that name exist in several namespaces; name them under "
                "'ports:'",
                name);
            return;
        }
    if (px_scenario_port(L->s, name))
        return;
    px_buf list = PX_BUF_INIT;
    for (size_t i = 0; i < L->s->nports; i++)
        px_buf_printf(&list, "%s%s", i ? ", " : "", L->s->ports[i].name);
    /* An interface that exists here but that the scenario neither creates nor
     * declares is the usual case (eth1 of a test machine): say how to use it. */
    if (strlen(name) < IF_NAMESIZE && if_nametoindex(name) != 0)
        px__scn_err_node(
            L, d, n,
            "unknown port '%s' (known ports: %s): interface '%s' exists but the scenario does not declare it; "
            "add it under 'ports:', e.g. ports: { %s: %s }",
            name, L->s->nports ? px_buf_cstr(&list) : "none", name, name, name);
    else
        px__scn_err_node(L, d, n,
                         "unknown port '%s' (known ports: %s; an existing interface must be declared under 'ports:')",
                         name, L->s->nports ? px_buf_cstr(&list) : "none");
    px_buf_free(&list);
}

void px__scn_err_checker(loader *L, const doc *d, const yaml_node_t *n, bool changed, const char *what, const char *msg)
{
    px_scn_pos p = px__scn_pos_of(d, n);
    int col = 0;
    const char *rest = msg;
    if (!strncmp(msg, "col ", 4)) {
        char *end;
        long c = strtol(msg + 4, &end, 10);
        if (end != msg + 4 && *end == ':' && c > 0 && c < 100000) {
            col = (int)c;
            rest = end + 1;
            while (*rest == ' ')
                rest++;
        }
    }
    bool single_line = n->start_mark.line == n->end_mark.line;
    yaml_scalar_style_t st = n->data.scalar.style;
    if (col && !changed && single_line &&
        (st == YAML_PLAIN_SCALAR_STYLE || st == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
         st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)) {
        px__scn_err_at(L, p.file, p.line, p.col + col - 1 + (st == YAML_PLAIN_SCALAR_STYLE ? 0 : 1), "%s: %s", what,
                       rest);
    } else if (col) {
        px__scn_err_at(L, p.file, p.line, p.col, "%s: %s (column %d of the text)", what, rest, col);
    } else {
        px__scn_err_at(L, p.file, p.line, p.col, "%s: %s", what, rest);
    }
}

/* A `filter:` is compiled here as the run will compile it (Ethernet, snap
 * length 65535), so that validate refuses what run could only turn into ERROR. */
void px__scn_check_filter(loader *L, const doc *d, const yaml_node_t *n, const char *filter)
{
    char eb[PX_ERRBUF_SIZE] = "";
    int rc = px_bpf_check(filter, eb);
    if (rc == PX_ENOMEM)
        L->oom = true;
    else if (rc)
        px__scn_err_node(L, d, n, "filter: %s", eb);
}

/* A `pcap:` to replay: a regular file that starts as a pcap or pcapng capture. */
void px__scn_check_pcap(loader *L, const doc *d, const yaml_node_t *n, const char *path)
{
    struct stat st;
    const char *why;
    int fd = px__scn_open_regular(path, &st, &why);
    if (fd < 0) {
        px__scn_err_node(L, d, n, "pcap: cannot read '%s': %s", path, why);
        return;
    }
    unsigned char m[4];
    ssize_t r = px__scn_read_upto(fd, m, sizeof m);
    close(fd);
    static const unsigned char magics[][4] = {
        {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, /* pcap, microseconds */
        {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}, /* pcap, nanoseconds */
        {0x0a, 0x0d, 0x0d, 0x0a},                           /* pcapng section header */
    };
    for (size_t i = 0; r == 4 && i < sizeof magics / sizeof magics[0]; i++)
        if (!memcmp(m, magics[i], 4))
            return;
    px__scn_err_node(L, d, n, "pcap: '%s' is not a pcap or pcapng capture", path);
}

void px__scn_check_test_ports(loader *L, const doc *d, const yaml_node_t *at, const px_scn_test *t)
{
    /* The runner opens at most MAX_TEST_PORTS ports per test. */
    const px_scn_port *used[MAX_TEST_PORTS];
    size_t nused = 0;
    for (size_t i = 0; i < t->nsteps; i++) {
        for (size_t j = 0; j < t->steps[i].nports; j++) {
            const px_scn_port *p = px_scenario_port(L->s, t->steps[i].ports[j]);
            size_t k = 0;
            while (p && k < nused && used[k] != p)
                k++;
            if (!p || k < nused)
                continue;
            if (nused == MAX_TEST_PORTS) {
                px__scn_err_node(L, d, at, "test '%s' uses more than %d ports", t->name ? t->name : "?",
                                 MAX_TEST_PORTS);
                return;
            }
            used[nused++] = p;
        }
    }
}
