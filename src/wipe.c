/* wipe.c: wiping secrets with explicit_bzero, which the compiler may not optimise away as a dead store. */
#include "first.h"
#include "wipe.h"

#include <string.h>

void wipe_bytes(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}
