#include <sqlite3.h>
#include <stddef.h>

/* glibc declares memmem only under _GNU_SOURCE, which the Swift Glibc module does not set; the
   byte searches in ByteSearch.swift use it (a two-way search, many bytes a step). */
void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
