/* migrations.h: the schema migrations of sql/, embedded at build time (src/migrations.c is generated). */
#ifndef KANCA_MIGRATIONS_H
#define KANCA_MIGRATIONS_H

struct migration {
	int version; /* 0 ends the list */
	const char *name;
	const char *sql;
};

extern const struct migration migrations_sqlite[];
extern const struct migration migrations_pg[];

#endif
