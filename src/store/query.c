/* query.c: the query helpers every store file uses, and the rows of listings. */
#include "first.h"
#include "store/store_int.h"
#include "buf.h"
#include "log.h"

#include <stdlib.h>

long long store_cell_ll(const struct db_rows *r, size_t row, size_t col)
{
	const char *c = db_cell(r, row, col);
	return c ? strtoll(c, NULL, 10) : 0;
}

enum db_status store_exec(struct store *s, const char *sql, size_t n, const struct db_param *p, struct db_rows *rows)
{
	enum db_status rc = s->ops->exec(s->conn, sql, n, p, rows);

	if (rc != DB_OK)
		log_error("store (%s): %s", s->ops->name, s->ops->error(s->conn));
	return rc;
}

int store_listing(struct store *s, const char *sql, size_t n, const struct db_param *p, struct store_rows **out)
{
	struct store_rows *r = calloc(1, sizeof *r);

	if (!r)
		return -1;
	if (store_exec(s, sql, n, p, &r->rows) != DB_OK) {
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* Runs a one-row change returning id: 1 changed, 0 no row, -1 error. */
int store_change_one(struct store *s, const char *sql, size_t n, const struct db_param *p)
{
	struct db_rows rows;
	int rc;

	if (store_exec(s, sql, n, p, &rows) != DB_OK)
		return -1;
	rc = rows.nrows > 0;
	db_rows_free(&rows);
	return rc;
}

/* ---- processing after the answer ---- */

char *store_dup_cell(const struct db_rows *r, size_t row, size_t col, size_t *len)
{
	const char *c = db_cell(r, row, col);
	size_t n = c ? r->lens[row * r->ncols + col] : 0;
	char *p;

	if (len)
		*len = n;
	if (!c)
		return NULL;
	p = malloc(n + 1);
	if (p) {
		memcpy(p, c, n);
		p[n] = '\0';
	}
	return p;
}

/* An upsert whose update is guarded by "the stored state is older": *changed = whether it wrote. */
int store_upsert_newer(struct store *s, const char *sql, size_t n, const struct db_param *p, int *changed)
{
	int rc = store_change_one(s, sql, n, p);

	if (rc < 0)
		return -1;
	*changed = rc;
	return 0;
}

int store_count_rows(struct store *s, const char *sql, size_t n, const struct db_param *p, long *count)
{
	struct db_rows rows;

	if (store_exec(s, sql, n, p, &rows) != DB_OK)
		return -1;
	*count = (long)rows.nrows;
	db_rows_free(&rows);
	return 0;
}

size_t store_rows_count(const struct store_rows *r)
{
	return r ? r->rows.nrows : 0;
}

const char *store_rows_get(const struct store_rows *r, size_t row, size_t col, size_t *len)
{
	const char *c = db_cell(&r->rows, row, col);

	if (len)
		*len = c ? r->rows.lens[row * r->rows.ncols + col] : 0;
	return c;
}

void store_rows_free(struct store_rows *r)
{
	if (!r)
		return;
	db_rows_free(&r->rows);
	free(r);
}
