/* --json output, built with jansson (the library mbn reads safetensors headers with): one
 * document per command, printed on one line of stdout when the command has succeeded. */
#ifndef MBN_APPS_JSON_OUT_H
#define MBN_APPS_JSON_OUT_H
#include <jansson.h>

/* A number (an integer when it is whole), or null when it is not finite (JSON has no NaN or
 * infinity). */
json_t *mbn_json_number(double v);
/* A string, or null for NULL. */
json_t *mbn_json_text(const char *s);
/* Prints doc compactly (no spaces; numbers with 9 significant digits, keys in insertion order)
 * and a newline, and releases it. A NULL doc (a json_pack or allocation failure) is an
 * out-of-memory error. */
int mbn_json_print(json_t *doc);

#endif
