/* first.h: included first by every .c file of kanca, before any system header: the feature macros, the
 * configure results (autoconf.h), and the project's one must-check macro. */
#ifndef KANCA_FIRST_H
#define KANCA_FIRST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, memmem, timegm */
#endif

#include "autoconf.h"

/* A result the caller must look at (0/-1 helpers, anything that can fail). */
#define KANCA_MUST_CHECK __attribute__((warn_unused_result))

#endif
