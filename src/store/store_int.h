/* store_int.h: what the store's own files share (never included outside src/store/): the store
 * handle, parameter helpers and the few query helpers every concern file uses. */
#ifndef KANCA_STORE_INT_H
#define KANCA_STORE_INT_H

#include "first.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/migrations.h"
#include "store/store.h"

struct store {
	const struct db_ops *ops;
	void *conn;
	const struct migration *migrations;
	int batch; /* inside store_batch_begin: store_receive joins the open transaction */
};

struct store_rows {
	struct db_rows rows;
};

/* Integer parameters travel as text. */
struct num {
	char s[24];
};

/* A text parameter (NULL = SQL NULL). */
static inline struct db_param P(const char *s) {
	struct db_param p = {s, s ? strlen(s) : 0, 0};
	return p;
}

/* An integer parameter, written into n. */
static inline struct db_param
PN(struct num *n, long long v) {
	snprintf(n->s, sizeof n->s, "%lld", v);
	return P(n->s);
}

/* NULL for 0 (optional foreign keys) */
static inline struct db_param
PZ(struct num *n, long long v) {
	return v ? PN(n, v) : P(NULL);
}

/* Runs one statement; a failure is logged (the backend's error text, never a parameter value). */
enum db_status
store_exec(struct store *s, const char *sql, size_t n, const struct db_param *p, struct db_rows *rows);
/* Runs a query into a new store_rows for a listing; 0 or -1. */
int store_listing(struct store *s, const char *sql, size_t n, const struct db_param *p,
		  struct store_rows **out) KANCA_MUST_CHECK;
/* Runs a one-row change returning id: 1 changed, 0 no row, -1 error. */
int store_change_one(struct store *s, const char *sql, size_t n, const struct db_param *p) KANCA_MUST_CHECK;
/* Runs a statement returning one row per changed row: *count = how many. 0 or -1. */
int store_count_rows(struct store *s, const char *sql, size_t n, const struct db_param *p,
		     long *count) KANCA_MUST_CHECK;
/* Runs an upsert that writes only newer state (RETURNING a row when it wrote): *changed. 0 or -1. */
int store_upsert_newer(struct store *s, const char *sql, size_t n, const struct db_param *p,
		       int *changed) KANCA_MUST_CHECK;
/* A cell as an integer (0 for NULL). */
long long store_cell_ll(const struct db_rows *r, size_t row, size_t col);
/* A malloc'd NUL-terminated copy of a cell (NULL for SQL NULL or no memory); *len (may be NULL) = bytes. */
char *store_dup_cell(const struct db_rows *r, size_t row, size_t col, size_t *len);

#endif
