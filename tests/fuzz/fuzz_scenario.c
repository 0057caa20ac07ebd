/* libFuzzer target of the scenario loader: YAML parsing, schema walk, variables,
 * and the expression and frame parsers it calls. Any input must give either a
 * scenario or error lines, never a crash, a leak or a read out of bounds.
 *   build: cmake -DPX_FUZZ=ON -DCMAKE_C_COMPILER=clang; run:
 *   ./fuzz_scenario -max_total_time=60 tests/fuzz/corpus/scenario */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    px_buf errs = PX_BUF_INIT;
    px_scenario *s = NULL;
    px_scn_var var = {"fuzz", "value"};
    int rc = px_scenario_load_string("fuzz.yaml", (const char *)data, size, px_run_checkers(), &var, 1, &s, &errs);
    /* Either a scenario or at least one error line, never both. */
    if ((rc == 0) != (s != NULL) || (rc == PX_EPARSE && errs.len == 0))
        abort();
    if (s) {
        for (size_t i = 0; i < s->ntests; i++)
            if (!s->tests[i].name)
                abort();
    }
    px_scenario_free(s);
    px_buf_free(&errs);
    return 0;
}
