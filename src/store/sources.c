/* sources.c: sources (provider accounts) and their secrets; secret values are wiped once copied. */
#include "first.h"
#include "store/store_int.h"
#include "wipe.h"

#include <stdlib.h>

int store_source_get(struct store *s, const char *provider, const char *account, long long now,
		     struct store_source *out)
{
	static const char sql[] =
	    "SELECT s.id, s.enabled, s.options, k.id, k.value, k.expires_at FROM sources s "
	    "LEFT JOIN secrets k ON k.source_id = s.id AND (k.expires_at IS NULL OR k.expires_at > $3) "
	    "WHERE s.provider = $1 AND s.account = $2 ORDER BY k.id DESC";
	struct db_rows rows;
	struct db_param p[3];
	struct num n;
	int rc = -1;

	memset(out, 0, sizeof *out);
	p[0] = P(provider);
	p[1] = P(account);
	p[2] = PN(&n, now);
	if (store_exec(s, sql, 3, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 0) {
		rc = 0;
		goto out;
	}
	out->id = store_cell_ll(&rows, 0, 0);
	snprintf(out->provider, sizeof out->provider, "%s", provider);
	snprintf(out->account, sizeof out->account, "%s", account);
	out->enabled = store_cell_ll(&rows, 0, 1) != 0;
	out->options = strdup(db_cell(&rows, 0, 2) ? db_cell(&rows, 0, 2) : "");
	if (!out->options)
		goto out;
	for (size_t r = 0; r < rows.nrows && out->nsecrets < KANCA_SECRETS_MAX; r++) {
		struct store_secret *k = &out->secrets[out->nsecrets];
		const char *v = db_cell(&rows, r, 4);
		if (!db_cell(&rows, r, 3) || !v)
			continue;
		k->id = store_cell_ll(&rows, r, 3);
		k->len = rows.lens[r * rows.ncols + 4];
		k->value = malloc(k->len + 1);
		if (!k->value)
			goto out;
		memcpy(k->value, v, k->len + 1);
		k->expires_at = store_cell_ll(&rows, r, 5);
		out->nsecrets++;
	}
	rc = 1;
out:
	/* secrets were copied; wipe the row copies */
	for (size_t r = 0; r < rows.nrows; r++) {
		char *v = rows.cells[r * rows.ncols + 4];
		if (v)
			wipe_bytes(v, rows.lens[r * rows.ncols + 4]);
	}
	db_rows_free(&rows);
	if (rc < 0)
		store_source_free(out);
	return rc;
}

void store_source_free(struct store_source *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->nsecrets; i++) {
		if (src->secrets[i].value)
			wipe_bytes(src->secrets[i].value, src->secrets[i].len);
		free(src->secrets[i].value);
	}
	free(src->options);
	memset(src, 0, sizeof *src);
}

int store_source_add(struct store *s, const char *provider, const char *account, const char *options, long long now,
		     long long *id)
{
	static const char sql[] =
	    "INSERT INTO sources (provider, account, options, created_at) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (provider, account) DO NOTHING RETURNING id";
	struct db_rows rows;
	struct db_param p[4];
	struct num n;
	int rc;

	p[0] = P(provider);
	p[1] = P(account);
	p[2] = P(options ? options : "");
	p[3] = PN(&n, now);
	if (store_exec(s, sql, 4, p, &rows) != DB_OK)
		return -1;
	rc = rows.nrows == 1 ? 0 : 1;
	if (rc == 0)
		*id = store_cell_ll(&rows, 0, 0);
	db_rows_free(&rows);
	return rc;
}

int store_source_set_enabled(struct store *s, const char *provider, const char *account, int enabled)
{
	static const char sql[] = "UPDATE sources SET enabled = $3 WHERE provider = $1 AND account = $2 RETURNING id";
	struct db_param p[3] = {P(provider), P(account), P(enabled ? "1" : "0")};

	return store_change_one(s, sql, 3, p);
}

int store_secret_add(struct store *s, long long source_id, const char *value, long long expires_at, long long now,
		     long long *id)
{
	static const char sql[] =
	    "INSERT INTO secrets (source_id, value, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id";
	struct db_rows rows;
	struct db_param p[4];
	struct num n1, n2, n3;
	int rc = -1;

	p[0] = PN(&n1, source_id);
	p[1] = P(value);
	p[2] = PN(&n2, now);
	p[3] = PZ(&n3, expires_at);
	if (store_exec(s, sql, 4, p, &rows) != DB_OK)
		return -1;
	if (rows.nrows == 1) {
		*id = store_cell_ll(&rows, 0, 0);
		rc = 0;
	}
	db_rows_free(&rows);
	return rc;
}

int store_secret_list(struct store *s, long long source_id, struct store_rows **out)
{
	static const char sql[] =
	    "SELECT id, created_at, expires_at FROM secrets WHERE source_id = $1 ORDER BY id DESC";
	struct num n;
	struct db_param p[1] = {PN(&n, source_id)};

	return store_listing(s, sql, 1, p, out);
}

int store_secret_remove(struct store *s, long long source_id, long long secret_id)
{
	static const char sql[] = "DELETE FROM secrets WHERE source_id = $1 AND id = $2 RETURNING id";
	struct num n1, n2;
	struct db_param p[2] = {PN(&n1, source_id), PN(&n2, secret_id)};

	return store_change_one(s, sql, 2, p);
}

int store_secret_expire(struct store *s, long long source_id, long long secret_id, long long expires_at)
{
	static const char sql[] = "UPDATE secrets SET expires_at = $3 WHERE source_id = $1 AND id = $2 RETURNING id";
	struct num n1, n2, n3;
	struct db_param p[3] = {PN(&n1, source_id), PN(&n2, secret_id), PZ(&n3, expires_at)};

	return store_change_one(s, sql, 3, p);
}

int store_list_sources(struct store *s, long long now, struct store_rows **out)
{
	static const char sql[] = "SELECT s.id, s.provider, s.account, s.enabled, s.options, "
				  "(SELECT count(*) FROM secrets k WHERE k.source_id = s.id AND (k.expires_at IS NULL "
				  "OR k.expires_at > $1)), "
				  "s.created_at FROM sources s ORDER BY s.provider, s.account";
	struct num n;
	struct db_param p[1] = {PN(&n, now)};

	return store_listing(s, sql, 1, p, out);
}
