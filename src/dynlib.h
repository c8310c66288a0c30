/* dynlib.h: a shared library loaded when it is first needed (dlopen), not when kanca starts. libpq is
 * loaded only by a process that opens a PostgreSQL store and libcurl only by one that forwards or
 * probes, so a responder on SQLite maps neither (nor what they pull in: Kerberos, LDAP, GnuTLS, ...),
 * and a machine without them still runs kanca on SQLite. */
#ifndef KANCA_DYNLIB_H
#define KANCA_DYNLIB_H

#include "first.h"

#include <stddef.h>

struct dynlib_symbol {
	const char *name;
	void **slot; /* where the address goes (a function pointer, written as POSIX's dlsym allows) */
};

/* Loads soname (once per process; later calls return the first result) and every symbol into its
 * slot. 0, or -1 with the reason in err ("libpq.so.5: cannot open shared object file", "libpq.so.5 has
 * no PQsendQueryParams"). what names the library for the message. */
int dynlib_load(const char *soname, const struct dynlib_symbol *syms, size_t n, char *err,
		size_t errsz) KANCA_MUST_CHECK;

#endif
