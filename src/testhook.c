/* testhook.c: testhook.h. */
#include "first.h"
#include "testhook.h"
#include "log.h"

#include <stdlib.h>
#include <unistd.h>

#if defined(KANCA_TEST_HOOKS)
void testhook_hold_file(const char *var)
{
	const char *path = getenv(var);

	if (path && *path && unlink(path) == 0) {
		log_warn("holding here (%s)", var);
		sleep(60);
	}
}
#endif
