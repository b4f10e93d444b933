/* Whole-file reads for the small binary formats (checkpoints, safetensors), with a size cap so a
 * hostile or wrong path (a device, a huge file) cannot exhaust memory. */
#ifndef MBN_IO_UTIL_FILE_READ_H
#define MBN_IO_UTIL_FILE_READ_H
#include <stddef.h>
#include <stdint.h>

/* Reads path into a fresh buffer (*data, free()). Refuses non-regular files and files larger
 * than max_bytes, naming the file. */
int mbn_read_file(const char *path, uint64_t max_bytes, unsigned char **data, size_t *len);

#endif
