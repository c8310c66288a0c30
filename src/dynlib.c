/* dynlib.c: dlopen and dlsym for the libraries kanca loads when first needed (dynlib.h). */
#include "first.h"
#include "dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dynlib_load(const char *soname, const struct dynlib_symbol *syms, size_t n, char *err, size_t errsz)
{
	void *h;

#if defined(KANCA_TEST_HOOKS)
	/* KANCA_TEST_DYNLIB_MISSING=<soname>: that library is taken for absent (dynlib.py) */
	const char *missing = getenv("KANCA_TEST_DYNLIB_MISSING");
	if (missing && strcmp(missing, soname) == 0) {
		snprintf(err, errsz, "%s: cannot open shared object file (KANCA_TEST_DYNLIB_MISSING)", soname);
		return -1;
	}
#endif
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		snprintf(err, errsz, "%s", why ? why : soname);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
			snprintf(err, errsz, "%s has no %s", soname, syms[i].name);
			return -1; /* the handle stays: a library is never unloaded */
		}
	return 0;
}
