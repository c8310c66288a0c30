/* spool.h: the durable local spool. An authentic delivery that the store cannot commit within the
 * answer deadline (down, locked, full, read-only) is written here before it is answered, and drained
 * into the store, in arrival order, once the store commits again (doc/operations.md, "The spool").
 *
 * Layout of a spool directory: tmp/ (records being written), new/ (complete records, one file each,
 * named so that name order is arrival order), bad/ (records that failed their checksum or that the
 * store refused for good), drain.lock (one drainer at a time). A record is written into tmp/, fsync'd,
 * renamed into new/ and the directory fsync'd: a crash leaves a complete record in new/ or none. */
#ifndef KANCA_SPOOL_H
#define KANCA_SPOOL_H

#include "first.h"

#include <stddef.h>

#include "request.h"

struct buf;

/* One delivery: what the drain needs to store it as the live path would have. */
struct spool_record {
	char provider[KANCA_SEGMENT_MAX + 1];
	char account[KANCA_SEGMENT_MAX + 1];
	char verification[128]; /* how it was verified (verdict detail) */
	long long secret_id;
	long long received_at;
	struct request req; /* method, path, remote address, headers and body */
};

/* What a spool holds now. */
struct spool_status {
	long records;		  /* complete records waiting in new/ */
	unsigned long long bytes; /* their size */
	long long oldest;	  /* received_at of the oldest (unix seconds), 0 when none */
	long bad;		  /* records set aside in bad/ */
	long partial;		  /* files in tmp/ (being written, or left by a crash) */
};

/* Writes r durably into dir (created with mode 0700 if missing) unless that would take the spool
 * past max_bytes. 0 written; -1 with the reason in err (full, cannot write). */
int spool_write(const char *dir, unsigned long long max_bytes, const struct spool_record *r,
		struct buf *err) KANCA_MUST_CHECK;

/* Reads and checks one record file. 0, or -1 (incomplete, checksum, format) with the reason in err.
 * Free with spool_record_free. */
int spool_read(const char *path, struct spool_record *r, struct buf *err) KANCA_MUST_CHECK;
void spool_record_free(struct spool_record *r);
/* The same from the bytes of a record file (the fuzz target's way in). */
int spool_parse(const char *data, size_t len, struct spool_record *r, struct buf *err) KANCA_MUST_CHECK;

/* 0 with st filled (a directory that does not exist is empty), -1 when it cannot be read. */
int spool_stat(const char *dir, struct spool_status *st) KANCA_MUST_CHECK;

/* Where a drain stores records. store: 0 stored (or a duplicate), -1 the store cannot take it now (the
 * drain stops and keeps it), -2 refused for good (the record moves to bad/). begin/commit/abort (begin
 * may be NULL) put up to SPOOL_DRAIN_GROUP records in one transaction, 0 or -1 each: a group in which
 * anything fails is aborted and stored again one record at a time. */
struct spool_sink {
	int (*store)(void *arg, const struct spool_record *r);
	int (*begin)(void *arg);
	int (*commit)(void *arg);
	void (*abort)(void *arg);
	void *arg;
};
#define SPOOL_DRAIN_GROUP 64

struct spool_drained {
	long stored, bad, left; /* left: records still waiting when the drain returned */
	int busy;		/* another process holds drain.lock: nothing was done */
	int stopped;		/* the store failed: the drain stopped at the oldest record it could not store */
};

/* Drains up to max records (0: all) in arrival order into sink, in groups: a record is removed only after
 * the transaction that stored it committed. Unreadable records move to bad/. Files in tmp/ older than a minute (left
 * by a crash while writing) are removed. 0 with *out filled, -1 when dir cannot be read. */
int spool_drain(const char *dir, long max, const struct spool_sink *sink, struct spool_drained *out) KANCA_MUST_CHECK;

#endif
