/* spool.c: kancactl spool status and spool drain: what waits in the durable local spool (spool.h), and
 * draining it into the store now (intake_drain), as the processors do by themselves. */
#include "first.h"
#include "ctl/ctl.h"
#include "app.h"
#include "buf.h"
#include "config.h"
#include "ctl/util.h"
#include "intake.h"
#include "spool.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_PASSES 5 /* drains again while deliveries arrived during the one before, at most this often */

/* The age in seconds of a record written at unix time t (the record names carry the wall clock). */
static long long age_of(long long t)
{
	long long now = (long long)time(NULL);

	return t > 0 && now > t ? now - t : 0;
}

int ctl_spool_status(struct app *a, int argc, char **argv)
{
	struct config cfg;
	struct spool_status st;
	struct buf err;
	struct stat sb;
	char dir[1024];
	const char *path = a->config_path ? a->config_path : config_path();
	int json = 0, exists, saved;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return ctl_usage_error("spool status [--json]");
	}
	/* the configuration only: the spool matters most while the store cannot be opened */
	config_defaults(&cfg);
	buf_init(&err, 64 * 1024);
	if (config_load(&cfg, path, &err) < 0) {
		fprintf(stderr, "kancactl: configuration error:\n%s", buf_str(&err));
		buf_free(&err);
		return CTL_FAIL;
	}
	buf_free(&err);
	if (config_spool_dir(&cfg, dir, sizeof dir) < 0)
		return ctl_fail("the spool directory's name is too long (spool_dir in %s)", path);
	errno = 0;
	if (spool_stat(dir, &st) < 0) {
		saved = errno;
		return ctl_fail("the spool %s cannot be read: %s (kanca's user must be able to read and write it; "
				"kancactl doctor checks it)",
				dir, saved ? strerror(saved) : "not a spool directory");
	}
	exists = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (json) {
		fputs("{\"directory\":", stdout);
		ctl_json_string(stdout, dir);
		printf(",\"exists\":%s,\"records\":%ld,\"bytes\":%llu,\"oldest_age\":%lld,\"bad\":%ld,\"partial\":%ld,"
		       "\"max_bytes\":%llu}\n",
		       exists ? "true" : "false", st.records, st.bytes, st.records ? age_of(st.oldest) : 0, st.bad,
		       st.partial, cfg.spool_max_bytes);
		return CTL_OK;
	}
	printf("spool      %s%s\n", dir, exists ? "" : " (does not exist yet: kanca creates it when it first spools)");
	printf("waiting    %ld deliver%s, %llu bytes", st.records, st.records == 1 ? "y" : "ies", st.bytes);
	if (st.records)
		printf(", the oldest for %lld s (kancactl spool drain stores them now)", age_of(st.oldest));
	printf("\nset aside  %ld in %s/bad\n", st.bad, dir);
	printf("partial    %ld in %s/tmp\n", st.partial, dir);
	printf("max bytes  %llu (spool_max_bytes: beyond it a delivery the store cannot take gets 503)\n",
	       cfg.spool_max_bytes);
	return CTL_OK;
}

/* Run as root, the drain would leave drain.lock owned by root (mode 0600), which kanca's own drainers (its
 * processors, as kanca's user) could then never open: so the lock is made first, owned as the spool is. */
static void lock_owned_as_spool(const char *dir)
{
	char lock[1100];
	struct stat sb;
	int fd;

	if (geteuid() != 0 || stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid == 0 ||
	    snprintf(lock, sizeof lock, "%s/drain.lock", dir) >= (int)sizeof lock)
		return;
	fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* there already (doctor checks its owner), or it cannot be made: the drain says so */
	if (fchown(fd, sb.st_uid, sb.st_gid) < 0)
		fprintf(stderr, "kancactl: cannot give %s to the spool's owner: %s\n", lock, strerror(errno));
	close(fd);
}

int ctl_spool_drain(struct app *a, int argc, char **argv)
{
	struct intake_drained d;
	struct spool_status st;
	long stored = 0, bad = 0;
	char dir[1024];
	int pass;

	(void)argv;
	if (argc)
		return ctl_usage_error("spool drain takes no arguments");
	if (config_spool_dir(&a->cfg, dir, sizeof dir) < 0)
		return ctl_fail("the spool directory's name is too long (spool_dir in %s)", a->config_path);
	lock_owned_as_spool(dir);
	memset(&d, 0, sizeof d);
	for (pass = 0; pass < DRAIN_PASSES; pass++) {
		if (intake_drain(a->store, &a->cfg, 0, &d) < 0)
			return ctl_fail("the spool %s cannot be read (kancactl spool status, kancactl doctor)", dir);
		stored += d.stored;
		bad += d.bad;
		if (d.busy || d.stopped || d.left)
			break;
		/* deliveries spooled while this pass ran are drained too, a few passes at most */
		if (spool_stat(dir, &st) < 0 || st.records == 0 || (d.stored == 0 && d.bad == 0))
			break;
	}
	if (d.busy) {
		long waiting = spool_stat(dir, &st) == 0 ? st.records : -1;
		if (stored || bad)
			printf("%ld deliveries stored, %ld set aside, %ld waiting\n", stored, bad, waiting);
		return ctl_fail("another process holds %s/drain.lock (a processor or another kancactl spool drain is "
				"draining the spool now): %ld deliveries waiting; try again when it is done",
				dir, waiting);
	}
	if (d.stopped) {
		const char *name = store_failure_name(store_failure(a->store)), *err = store_error(a->store);
		int said = strncmp(err, name, strlen(name)) == 0; /* the error begins with its cause already */
		printf("%ld deliveries stored, %ld set aside, %ld waiting\n", stored, bad, d.left);
		return ctl_fail("the store failed: %s%s%s: the drain stopped; %ld deliveries wait in %s",
				said ? "" : name, said ? "" : ": ", err, d.left, dir);
	}
	if (spool_stat(dir, &st) < 0)
		return ctl_fail("the spool %s cannot be read after the drain", dir);
	printf("%ld deliveries stored, %ld set aside, %ld waiting\n", stored, bad, st.records);
	if (bad)
		printf("set aside in %s/bad (kanca's log says why; they are never stored)\n", dir);
	if (st.records)
		return ctl_fail("%ld deliveries still wait in %s (they arrived during the drain): run it again",
				st.records, dir);
	return CTL_OK;
}
