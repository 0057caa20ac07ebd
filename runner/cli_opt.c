/* pktexpect runner: the shared option parser (cli_opt.h). */
#include "cli_opt.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "pktexpect/topology.h"
#include "run.h"

void px_cli_args_init(px_cli_args *a, const char *cmd, int argc, char **argv, const px_cli_opt *opts)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    a->opts = opts;
    a->i = 1;
    a->ops = argv + 1;
}

/* "pktexpect CMD: <pre>'<the option as given>'<post> (...)" */
static int bad(const px_cli_args *a, const char *pre, const char *post, const char *what, int len)
{
    const char *sp = a->cmd ? " " : "", *cmd = a->cmd ? a->cmd : "";
    fprintf(stderr, "pktexpect%s%s: %s'%.*s'%s (pktexpect%s%s --help lists the options)\n", sp, cmd, pre, len, what,
            post, sp, cmd);
    return PX_CLI_ERROR;
}

/* The option named by the first `len` bytes of `name`: an exact long name, else
 * the only one it abbreviates (aliases of one option count once). */
static const px_cli_opt *find_long(const px_cli_args *a, const char *name, size_t len, bool *ambiguous)
{
    const px_cli_opt *hit = NULL;
    *ambiguous = false;
    for (const px_cli_opt *o = a->opts; o && o->lname; o++)
        if (strlen(o->lname) == len && !strncmp(o->lname, name, len))
            return o;
    for (const px_cli_opt *o = a->opts; o && o->lname; o++) {
        if (strncmp(o->lname, name, len))
            continue;
        if (hit && hit->id != o->id)
            *ambiguous = true;
        hit = hit ? hit : o;
    }
    return *ambiguous ? NULL : hit;
}

/* Takes the value of an option that needs one: the rest of this argument or
 * the next one. */
static int take_value(px_cli_args *a, const px_cli_opt *o, const char *rest, const char **value, const char *shown,
                      int shown_len)
{
    if (rest) {
        *value = rest;
        return o->id;
    }
    if (a->i >= a->argc)
        return bad(a, "option ", " needs a value", shown, shown_len);
    *value = a->argv[a->i++];
    return o->id;
}

int px_cli_next(px_cli_args *a, const char **value)
{
    *value = NULL;
    if (a->group) { /* the next letter of "-lv" */
        const char *g = a->group;
        const px_cli_opt *o = a->opts;
        while (o && o->lname && o->sname != *g)
            o++;
        a->group = g[1] ? g + 1 : NULL;
        if (!o || !o->lname) {
            char shown[3] = {'-', *g, 0};
            return bad(a, "unknown option ", "", shown, 2);
        }
        if (!o->has_arg)
            return o->id;
        a->group = NULL;
        char shown[3] = {'-', o->sname, 0};
        return take_value(a, o, g[1] ? g + 1 : NULL, value, shown, 2);
    }
    while (a->i < a->argc) {
        char *arg = a->argv[a->i++];
        if (a->ended || arg[0] != '-' || arg[1] == '\0') {
            a->ops[a->nops++] = arg; /* the slot is behind the reader: safe to reuse */
            continue;
        }
        if (!strcmp(arg, "--")) {
            a->ended = true;
            continue;
        }
        if (arg[1] != '-') {
            a->group = arg + 1;
            return px_cli_next(a, value);
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int shown_len = (int)(len + 2);
        bool ambiguous;
        const px_cli_opt *o = find_long(a, name, len, &ambiguous);
        if (!o)
            return bad(a, ambiguous ? "option " : "unknown option ", ambiguous ? " is ambiguous" : "", arg, shown_len);
        if (!o->has_arg) {
            if (eq)
                return bad(a, "option ", " takes no value", arg, shown_len);
            return o->id;
        }
        return take_value(a, o, eq ? eq + 1 : NULL, value, arg, shown_len);
    }
    return PX_CLI_END;
}

bool px_cli_bpf_ok(const char *cmd, const char *filter)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!dead)
        return true; /* out of memory: the expectation will say so */
    struct bpf_program prog;
    bool ok = pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (ok)
        pcap_freecode(&prog);
    else
        fprintf(stderr, "pktexpect %s: --bpf '%s': %s\n", cmd, filter, pcap_geterr(dead));
    pcap_close(dead);
    return ok;
}

int px_cli_netns_ports(const char *cmd, const char *netns, const char *const *ports, size_t n,
                       px_cli_port_name *names, const char **out)
{
    if (!netns) {
        for (size_t i = 0; i < n; i++)
            out[i] = ports[i];
        return 0;
    }
    /* What `ip netns` accepts as a name, and short enough for a port name. */
    if (!*netns || strchr(netns, '/') || !strcmp(netns, ".") || !strcmp(netns, "..") ||
        strlen(netns) + 1 + 15 >= PX_CLI_PORT_NAME_MAX) {
        fprintf(stderr, "pktexpect %s: invalid namespace name '%s'\n", cmd, netns);
        return PX_EXIT_INVALID;
    }
    if (!px_topo_netns_exists(netns)) {
        fprintf(stderr, "pktexpect %s: namespace '%s': does not exist\n", cmd, netns);
        return PX_EXIT_ENV;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        if (ports[i]) {
            snprintf(names[i].s, sizeof names[i].s, "%s/%s", netns, ports[i]);
            out[i] = names[i].s;
        }
    }
    return 0;
}

bool px_cli_names_add(px_cli_names *n, const char *cmd, const char *path)
{
    if (n->nplugins == PX_CLI_PLUGINS_MAX) {
        fprintf(stderr, "pktexpect %s: at most %d --plugin options\n", cmd, PX_CLI_PLUGINS_MAX);
        return false;
    }
    n->plugins[n->nplugins++] = path;
    return true;
}

int px_cli_names_load(px_cli_names *n, const char *cmd)
{
    char eb[PX_ERRBUF_SIZE] = "";
    n->reg = px_registry_new();
    n->pl = n->reg ? px_plugins_new(n->reg) : NULL;
    if (!n->pl) {
        fprintf(stderr, "pktexpect %s: out of memory\n", cmd);
        return PX_EXIT_ENV;
    }
    for (size_t i = 0; i < n->nplugins; i++) {
        int rc = px_plugins_load(n->pl, n->plugins[i], eb);
        if (rc) {
            fprintf(stderr, "pktexpect %s: %s\n", cmd, eb);
            return rc == PX_ENOMEM ? PX_EXIT_ENV : PX_EXIT_INVALID;
        }
    }
    return 0;
}

void px_cli_names_free(px_cli_names *n)
{
    px_registry_free(n->reg);
    px_plugins_free(n->pl);
    n->reg = NULL;
    n->pl = NULL;
}
