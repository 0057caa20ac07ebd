/* pktexpect: error names and messages, generated from PX_ERROR_TABLE. */
#include "pktexpect/error.h"

#include <stddef.h>

typedef struct err_entry {
    int code;
    const char *name;
    const char *msg;
} err_entry;

#define PX__ERR_ROW(name, value, msg) {-(value), #name, msg},
static const err_entry err_table[] = {PX_ERROR_TABLE(PX__ERR_ROW)};
#undef PX__ERR_ROW

static const err_entry *err_find(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return &err_table[i];
    return NULL;
}

const char *px_strerror(int code)
{
    const err_entry *e = err_find(code);
    return e ? e->msg : "unknown error code";
}

const char *px_err_name(int code)
{
    const err_entry *e = err_find(code);
    return e ? e->name : "PX_E?";
}
