/* testhook.c: testhook.h. */
#include "first.h"
#include "testhook.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(KANCA_TEST_HOOKS)
void testhook_hold_file(const char *var)
{
	const char *path = getenv(var);

	if (path && *path && unlink(path) == 0) {
		/* the crash tests look for these words in the log */
		log_warn("%s (%s)", strcmp(var, "KANCA_TEST_HOLD_FILE") == 0 ? "holding the answer" : "holding", var);
		sleep(60);
	}
}
#endif
