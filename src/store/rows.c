/* rows.c: result rows shared by both store backends. */
#include "first.h"
#include "store/db.h"

#include <stdlib.h>
#include <string.h>

void db_rows_free(struct db_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->lens);
	memset(r, 0, sizeof *r);
}

const char *db_cell(const struct db_rows *r, size_t row, size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

int db_rows_add(struct db_rows *r, size_t ncols, char **cells, size_t *lens)
{
	size_t n = (r->nrows + 1) * ncols;
	char **c;
	size_t *l;

	if (r->nrows && r->ncols != ncols)
		return -1;
	c = realloc(r->cells, n * sizeof *c);
	if (!c)
		return -1;
	r->cells = c;
	l = realloc(r->lens, n * sizeof *l);
	if (!l)
		return -1;
	r->lens = l;
	memcpy(r->cells + r->nrows * ncols, cells, ncols * sizeof *cells);
	memcpy(r->lens + r->nrows * ncols, lens, ncols * sizeof *lens);
	r->ncols = ncols;
	r->nrows++;
	return 0;
}
