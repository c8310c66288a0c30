/* wipe.h: the one way kanca wipes secrets from memory, below every other module (no library). */
#ifndef KANCA_WIPE_H
#define KANCA_WIPE_H

#include <stddef.h>

/* Overwrites n bytes at p with zeros in a way the compiler may not drop; p may be NULL. */
void wipe_bytes(void *p, size_t n);

#endif
